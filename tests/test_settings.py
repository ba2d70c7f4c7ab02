"""Configuration fails loudly: config.env's helpers, and config.settings at import time."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

PROJECT = Path(__file__).resolve().parent.parent
NAME = "SANPO_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


# --- config.env -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("YES", True), (" on ", True), ("1", True), ("false", False), ("0", False)],
)
def test_env_bool_reads_the_usual_spellings(
    raw: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "tru", "2", "enabled"])
def test_env_bool_refuses_anything_else(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_bool(NAME, False)


def test_env_bool_uses_the_default_when_unset() -> None:
    assert env_bool(NAME, True) is True
    assert env_bool(NAME, False) is False


def test_env_int_reads_a_number_and_defaults_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_int(NAME, 7, minimum=1) == 7
    monkeypatch.setenv(NAME, "42")
    assert env_int(NAME, 7, minimum=1) == 42


@pytest.mark.parametrize("raw", ["ten", "4.5", "0x10", "1e3"])
def test_env_int_refuses_a_non_integer(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match="is not an integer"):
        env_int(NAME, 1)


def test_env_int_refuses_a_value_below_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int(NAME, 5, minimum=1)
    monkeypatch.setenv(NAME, "1")
    assert env_int(NAME, 5, minimum=1) == 1


def test_env_str_required_and_missing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be set"):
        env_str(NAME, required=True)
    monkeypatch.setenv(NAME, "")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be set"):
        env_str(NAME, required=True)
    monkeypatch.setenv(NAME, "value")
    assert env_str(NAME, required=True) == "value"


def test_a_value_is_read_from_name_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv(NAME, "from-the-environment")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))

    assert env_str(NAME) == "from-a-file"
    secret.write_text(" 12 \n", encoding="utf-8")
    assert env_int(NAME, 0) == 12
    secret.write_text("a, b,,c", encoding="utf-8")
    assert env_list(NAME, []) == ["a", "b", "c"]


def test_an_unreadable_name_file_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=f"{NAME}_FILE"):
        env_str(NAME, "default")


# --- config.settings, imported in a fresh interpreter ----------------------------------------


def _import_settings(
    code: str = "import config.settings", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SANPO_", "DJANGO_", "SECRET_KEY", "DATABASE_", "CELERY_"))
        and key not in {"REDIS_URL", "DEBUG", "ALLOWED_HOSTS"}
    }
    return subprocess.run(  # noqa: S603 - the code is this module's own
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


VALID_KEY = Fernet.generate_key().decode()


def test_settings_import_with_real_secrets() -> None:
    result = _import_settings(SECRET_KEY="s" * 50, SANPO_ENCRYPTION_KEYS=VALID_KEY)
    assert result.returncode == 0, result.stderr


def test_settings_import_with_insecure_defaults_when_allowed() -> None:
    result = _import_settings(SANPO_ALLOW_INSECURE_DEFAULTS="true")
    assert result.returncode == 0, result.stderr


PRODUCTION_DB = "postgres://sanpo@db.invalid/sanpo"


def test_settings_allow_insecure_defaults_on_the_embedded_database_only() -> None:
    assert _import_settings().returncode == 0
    on_postgres = _import_settings(DATABASE_URL=PRODUCTION_DB)
    assert on_postgres.returncode != 0
    assert "SECRET_KEY must be set" in on_postgres.stderr


def test_settings_refuse_to_import_without_secret_key() -> None:
    result = _import_settings(SANPO_ENCRYPTION_KEYS=VALID_KEY, DATABASE_URL=PRODUCTION_DB)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_refuse_to_import_without_encryption_keys() -> None:
    result = _import_settings(SECRET_KEY="s" * 50, DATABASE_URL=PRODUCTION_DB)
    assert result.returncode != 0
    assert "SANPO_ENCRYPTION_KEYS must be set" in result.stderr


@pytest.mark.parametrize(
    "keys",
    ["not-a-fernet-key", f"{VALID_KEY},c2hvcnQ=", "ÿ" * 44],
    # VALID_KEY is random: an id of its own keeps the test's name the same in every process
    # (pytest-xdist's workers must collect the same tests).
    ids=["not-a-fernet-key", "a-valid-key-then-a-short-one", "not-ascii"],
)
def test_settings_refuse_an_invalid_encryption_key(keys: str) -> None:
    result = _import_settings(
        SECRET_KEY="s" * 50, SANPO_ENCRYPTION_KEYS=keys, SANPO_ALLOW_INSECURE_DEFAULTS="true"
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SANPO_ENCRYPTION_KEYS holds a value that is not a Fernet key" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SANPO_WEBHOOK_MAX_ATTEMPTS", "0", "SANPO_WEBHOOK_MAX_ATTEMPTS=0 is below the minimum"),
        (
            "SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS",
            "6",
            "SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS=6 is below the minimum",
        ),
        ("SANPO_BEHIND_TLS", "perhaps", "SANPO_BEHIND_TLS='perhaps' is not a boolean"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is not a valid database URL"),
    ],
)
def test_settings_refuse_a_bad_value(name: str, value: str, message: str) -> None:
    result = _import_settings(SANPO_ALLOW_INSECURE_DEFAULTS="true", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_settings_read_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "django").write_text("f" * 50, encoding="utf-8")
    (tmp_path / "fernet").write_text(VALID_KEY + "\n", encoding="utf-8")
    result = _import_settings(
        SECRET_KEY_FILE=str(tmp_path / "django"),
        SANPO_ENCRYPTION_KEYS_FILE=str(tmp_path / "fernet"),
    )
    assert result.returncode == 0, result.stderr


REPLICA_DB = "postgres://reporting@replica.invalid:5433/sanpo"


def test_settings_add_the_replica_as_a_test_mirror_of_the_primary() -> None:
    shown = (
        "from config import settings; r = settings.DATABASES['replica']; "
        "print(r['HOST'], r['PORT'], r['NAME'], r['TEST'], settings.DATABASE_ROUTERS)"
    )
    result = _import_settings(
        shown,
        SANPO_ALLOW_INSECURE_DEFAULTS="true",
        DATABASE_URL=PRODUCTION_DB,
        DATABASE_REPLICA_URL=REPLICA_DB,
    )
    assert result.returncode == 0, result.stderr
    expected = "replica.invalid 5433 sanpo {'MIRROR': 'default'} ['partners.db.PrimaryRouter']"
    assert result.stdout.strip() == expected


def test_settings_have_no_replica_unless_asked() -> None:
    shown = "from config import settings; print(sorted(settings.DATABASES))"
    result = _import_settings(
        shown, SANPO_ALLOW_INSECURE_DEFAULTS="true", DATABASE_URL=PRODUCTION_DB
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default']"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": PRODUCTION_DB, "DATABASE_REPLICA_URL": "nosuchdb://x"},
            "DATABASE_REPLICA_URL is not a valid database URL",
        ),
        ({"DATABASE_REPLICA_URL": REPLICA_DB}, "DATABASE_REPLICA_URL needs DATABASE_URL"),
    ],
    ids=["malformed", "without-a-primary"],
)
def test_settings_refuse_a_bad_replica(env: dict[str, str], message: str) -> None:
    result = _import_settings(SANPO_ALLOW_INSECURE_DEFAULTS="true", **env)
    assert result.returncode != 0
    assert message in result.stderr
