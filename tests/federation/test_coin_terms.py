"""The coin part of an agreement's terms: what each program grants, how its coins expire, and
the Premiums and Representations Act's 20% cap, refused when drafted."""

from __future__ import annotations

from typing import Any

import pytest

from federation.agreements.terms import TermsError, terms_clean

PARTIES = ["host", "brand"]
FLOW = {
    "provider": "host",
    "recipient": "brand",
    "purpose": "cross_enrollment",
    "fields": ["name"],
    "legal_basis": "consent",
}


def _clean(**program: Any) -> dict[str, Any]:
    base = {"yen_per_coin": "1", "rate_to_shared": "1"}
    document = {
        "data_flows": [FLOW],
        "coin": {"exchange": True, "programs": {"host": {**base, **program}, "brand": base}},
    }
    terms = terms_clean(document, parties=PARTIES, purposes=["cross_enrollment"])
    return dict(terms["coin"]["programs"]["host"])


def _refusals(**program: Any) -> dict[str, list[str]]:
    with pytest.raises(TermsError) as refused:
        _clean(**program)
    return refused.value.errors


def test_a_program_states_its_earning_expiry_and_reactivation() -> None:
    program = _clean(
        coins_per_100_yen="1",
        pending_days=30,
        expiry_days=365,
        expiry_after_activity=True,
        reactivation_days=180,
        reactivation_bonus=50,
    )
    assert program == {
        "yen_per_coin": "1",
        "rate_to_shared": "1",
        "coins_per_100_yen": "1",
        "pending_days": 30,
        "expiry_days": 365,
        "expiry_after_activity": True,
        "reactivation_days": 180,
        "reactivation_bonus": 50,
    }


def test_a_program_that_states_only_its_funding_is_still_valid() -> None:
    assert _clean() == {"yen_per_coin": "1", "rate_to_shared": "1"}
    assert _clean(coins_per_100_yen=None, pending_days=None) == _clean()  # blank inputs


@pytest.mark.parametrize(
    ("rate", "yen", "refused"),
    [("20", "1", False), ("20.01", "1", True), ("10", "2", False), ("10", "2.5", True)],
)
def test_purchase_coins_worth_more_than_20_percent_are_refused_when_drafted(
    rate: str, yen: str, refused: bool
) -> None:
    if refused:
        errors = _refusals(coins_per_100_yen=rate, yen_per_coin=yen)
        assert (
            "Premiums and Representations Act" in errors["coin.programs.host.coins_per_100_yen"][0]
        )
    else:
        assert _clean(coins_per_100_yen=rate, yen_per_coin=yen)["coins_per_100_yen"] == rate


@pytest.mark.parametrize(
    ("program", "path"),
    [
        ({"coins_per_100_yen": 1.5}, "coins_per_100_yen"),  # a float: never for money
        ({"coins_per_100_yen": "-1"}, "coins_per_100_yen"),
        ({"pending_days": 0}, "pending_days"),
        ({"pending_days": "30"}, "pending_days"),
        ({"pending_days": True}, "pending_days"),
        ({"expiry_days": 0}, "expiry_days"),
        ({"expiry_after_activity": True}, "expiry_days"),
        ({"expiry_after_activity": "yes"}, "expiry_after_activity"),
        ({"reactivation_days": 90}, "reactivation_bonus"),
        ({"reactivation_bonus": 10}, "reactivation_bonus"),
        ({"reactivation_days": 90, "reactivation_bonus": 0}, "reactivation_bonus"),
    ],
)
def test_bad_program_settings_are_refused_next_to_their_input(
    program: dict[str, Any], path: str
) -> None:
    assert f"coin.programs.host.{path}" in _refusals(**program)
