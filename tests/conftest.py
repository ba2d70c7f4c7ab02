"""Personas (healthchecks' alice/bob/charlie, for an alliance) and API helpers.

- host: the customer-base owner; partner: a brand; outsider: a brand with no business here.
- alliance_manager, compliance_reviewer: alliance-wide staff users.
- host_admin / partner_admin / partner_analyst: partner staff users.
- Each partner has ``<name>_key``: a key with read, write and admin scopes.
"""

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from partners.models import ApiScope, Partner, StaffRole
from tests.factories import issue_key, make_partner, make_staff


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_broker = bool(settings.CELERY_BROKER_URL)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL row locks: set DATABASE_URL (CI does)")
            )
        if "broker" in item.keywords and not has_broker:
            item.add_marker(
                pytest.mark.skip(reason="needs a Celery broker: set CELERY_BROKER_URL (CI does)")
            )


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    from django.core.cache import cache

    cache.clear()
    yield


@dataclass
class Key:
    partner: Partner
    plaintext: str

    @property
    def api_key(self) -> Any:
        from partners.models import ApiKey

        return ApiKey.objects.get(lookup=self.plaintext.split("_")[1])


@pytest.fixture
def alliance_manager(db: Any) -> Any:
    return make_staff("alice-manager", StaffRole.Role.ALLIANCE_MANAGER)


@pytest.fixture
def compliance_reviewer(db: Any) -> Any:
    return make_staff("carol-reviewer", StaffRole.Role.COMPLIANCE_REVIEWER)


@pytest.fixture
def host(db: Any) -> Partner:
    return make_partner("host-co", kind=Partner.Kind.HOST)


@pytest.fixture
def partner(db: Any) -> Partner:
    return make_partner("brand-co")


@pytest.fixture
def outsider(db: Any) -> Partner:
    return make_partner("outsider-co")


@pytest.fixture
def host_admin(host: Partner) -> Any:
    return make_staff("hiro-host-admin", StaffRole.Role.PARTNER_ADMIN, host)


@pytest.fixture
def partner_admin(partner: Partner) -> Any:
    return make_staff("bob-partner-admin", StaffRole.Role.PARTNER_ADMIN, partner)


@pytest.fixture
def partner_analyst(partner: Partner) -> Any:
    return make_staff("ann-partner-analyst", StaffRole.Role.PARTNER_ANALYST, partner)


@pytest.fixture
def partner_key(partner: Partner, alliance_manager: Any) -> Key:
    return Key(partner, issue_key(partner).plaintext)


@pytest.fixture
def partner_read_key(partner: Partner, alliance_manager: Any) -> Key:
    return Key(partner, issue_key(partner, scopes=(ApiScope.READ,)).plaintext)


@pytest.fixture
def outsider_key(outsider: Partner, alliance_manager: Any) -> Key:
    return Key(outsider, issue_key(outsider).plaintext)


@pytest.fixture
def host_key(host: Partner, alliance_manager: Any) -> Key:
    return Key(host, issue_key(host).plaintext)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(key: Key | str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        plaintext = key.plaintext if isinstance(key, Key) else key
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"sanpo: DATABASE_URL={'set' if os.environ.get('DATABASE_URL') else 'unset (SQLite)'}, "
        f"CELERY_BROKER_URL={'set' if os.environ.get('CELERY_BROKER_URL') else 'unset (eager)'}"
    )
