"""The overlap API: counts only, with small cells withheld; a company decides (admin scope) how
much of its base each partner may count; a stranger learns nothing of who is in the alliance."""

from typing import Any

import pytest
from django.utils import timezone

from federation import services
from federation.models import Agreement, OverlapQuery, OverlapVisibility
from partners.actors import Actor
from partners.models import Partner
from tests.conftest import Key, client_for
from tests.federation.conftest import OVERLAP_MIN_CELL, shared_people

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exact_overlap_counts")]
SYSTEM = Actor.system()
TODAY = timezone.localdate()


def _ask(key: Key, query: str) -> Any:
    return client_for(key).get(f"/api/v1/overlap?{query}")


def test_the_host_counts_the_members_it_shares_with_the_brand(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key
) -> None:
    shared_people(host, partner, 12)

    response = _ask(host_key, "other=brand-co")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "other": "brand-co",
        "breakdown": "",
        "min_cell": OVERLAP_MIN_CELL,
        "total": 12,
        "cells": [{"segment": "all", "count": 12}],
    }
    text = response.content.decode()
    assert "H-0" not in text
    assert "B-0" not in text
    assert "example.jp" not in text.lower()
    assert OverlapQuery.objects.count() == 1
    by_kind = _ask(host_key, "other=brand-co&breakdown=kind").json()
    assert by_kind["cells"] == [{"segment": "household", "count": 12}]


def test_a_question_that_would_reveal_a_small_cell_gets_it_withheld(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key
) -> None:
    shared_people(host, partner, 12, birth_date="1985-01-01")
    shared_people(host, partner, 11, start=100, birth_date="1995-01-01")
    shared_people(host, partner, 3, start=200, birth_date="1975-01-01")  # too small

    body = _ask(host_key, "other=brand-co&breakdown=age_band").json()

    assert body["total"] == 26
    counts = [cell["count"] for cell in body["cells"]]
    assert len(counts) == 3
    # The small cell is withheld, and the smallest shown one with it: 26 - 12 reveals nothing.
    assert sorted(c for c in counts if c is not None) == [12]
    assert counts.count(None) == 2
    assert 3 not in counts
    assert 11 not in counts
    (logged,) = OverlapQuery.objects.all()
    assert (logged.cells, logged.suppressed) == (3, 2)


def test_beyond_its_question_budget_a_company_is_told_when_to_ask_again(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key, settings: Any
) -> None:
    settings.SANPO_OVERLAP_QUESTIONS_PER_MONTH = 1
    shared_people(host, partner, OVERLAP_MIN_CELL)
    assert _ask(host_key, "other=brand-co").status_code == 200

    response = _ask(host_key, "other=brand-co&breakdown=kind")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 29 * 86400 < int(response["Retry-After"]) <= 30 * 86400
    assert OverlapQuery.objects.count() == 1


def test_the_format_parameter_is_no_filter(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL)

    response = _ask(host_key, "other=brand-co&format=json")

    assert response.status_code == 200, response.content
    assert response.json()["total"] == OVERLAP_MIN_CELL


def test_a_small_overlap_is_withheld_entirely(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL - 1)

    body = _ask(host_key, "other=brand-co&breakdown=kind").json()

    assert body["total"] is None
    assert [cell["count"] for cell in body["cells"]] == [None]


@pytest.mark.parametrize(
    ("who", "query", "status", "code"),
    [
        # The host gives the brand no overlap_matching: no agreement lets the brand ask.
        ("partner", "other=host-co", 403, "no_agreement"),
        ("host", "other=outsider-co", 403, "no_agreement"),
        ("host", "other=nobody-co", 403, "no_agreement"),
        ("host", "other=host-co", 400, "validation_failed"),
        ("host", "other=brand-co&breakdown=email", 400, "validation_failed"),
        ("host", "breakdown=kind", 400, "validation_failed"),
        ("host", "other=Brand%20Co", 400, "validation_failed"),
        ("outsider", "other=brand-co", 403, "no_agreement"),
        ("hidden", "other=brand-co", 403, "permission_denied"),
        # Narrowed or crossed, a count could be subtracted to reveal a withheld cell.
        ("host", "other=brand-co&prefecture=13", 400, "disclosure_refused"),
        ("host", "other=brand-co&breakdown=age_band&kind=business", 400, "disclosure_refused"),
        ("host", "other=brand-co&breakdown=age_band&breakdown=kind", 400, "disclosure_refused"),
        ("host", "other=brand-co&breakdown=age_band,prefecture", 400, "disclosure_refused"),
        ("host", "other=brand-co&other=outsider-co", 400, "validation_failed"),
    ],
)
def test_a_refused_question_is_answered_with_a_clear_4xx_and_not_logged(
    alliance: Agreement,
    host: Partner,
    partner: Partner,
    host_key: Key,
    partner_key: Key,
    outsider_key: Key,
    who: str,
    query: str,
    status: int,
    code: str,
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL)
    if who == "hidden":
        services.overlap_visibility_set(owner=partner, viewer=host, level="nothing", actor=SYSTEM)
    key = {"partner": partner_key, "outsider": outsider_key}.get(who, host_key)

    response = _ask(key, query)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert "count" not in response.json()["error"]
    assert not OverlapQuery.objects.exists()


def test_a_stranger_is_told_exactly_what_an_unknown_slug_is_told(
    alliance: Agreement, outsider: Partner, host_key: Key
) -> None:
    stranger = _ask(host_key, f"other={outsider.slug}").json()["error"]
    nobody = _ask(host_key, "other=nobody-co").json()["error"]

    assert stranger["message"].replace(outsider.slug, "nobody-co") == nobody["message"]


# --- Visibility --------------------------------------------------------------------------------


def test_each_company_lists_what_its_partners_may_see_of_its_base(
    alliance: Agreement, host_key: Key, partner_key: Key, outsider_key: Key
) -> None:
    brand = client_for(partner_key).get("/api/v1/overlap/visibility")
    host = client_for(host_key).get("/api/v1/overlap/visibility")
    outsider = client_for(outsider_key).get("/api/v1/overlap/visibility")

    assert [(v["viewer"], v["level"]) for v in brand.json()["results"]] == [("host-co", "counts")]
    assert brand.json()["results"][0]["updated_at"]
    assert host.json()["results"] == [
        {"viewer": "brand-co", "level": "nothing", "updated_at": None}
    ]
    assert outsider.json()["results"] == []


def test_the_brand_stops_the_host_counting_with_an_admin_key(
    alliance: Agreement, host: Partner, partner: Partner, host_key: Key, partner_key: Key
) -> None:
    shared_people(host, partner, OVERLAP_MIN_CELL)

    response = client_for(partner_key).put(
        "/api/v1/overlap/visibility/host-co", {"level": "nothing"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["level"] == "nothing"
    refused = _ask(host_key, "other=brand-co")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_a_read_only_key_cannot_change_visibility(
    alliance: Agreement, partner: Partner, partner_read_key: Key
) -> None:
    response = client_for(partner_read_key).put(
        "/api/v1/overlap/visibility/host-co", {"level": "nothing"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert OverlapVisibility.objects.get(owner=partner).level == "counts"


@pytest.mark.parametrize(
    ("viewer", "body", "status", "code"),
    [
        ("outsider-co", {"level": "counts"}, 404, "not_found"),  # no agreement with it
        ("nobody-co", {"level": "counts"}, 404, "not_found"),
        ("brand-co", {"level": "counts"}, 400, "validation_failed"),  # itself
        ("host-co", {"level": "everything"}, 400, "validation_failed"),
        ("host-co", {}, 400, "validation_failed"),
        ("host-co", {"level": "counts", "owner": "host-co"}, 400, "validation_failed"),
    ],
)
def test_a_bad_visibility_change_is_refused_and_changes_nothing(
    alliance: Agreement,
    outsider: Partner,
    partner_key: Key,
    viewer: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = sorted(OverlapVisibility.objects.values_list("owner", "viewer", "level"))

    response = client_for(partner_key).put(
        f"/api/v1/overlap/visibility/{viewer}", body, format="json"
    )

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert sorted(OverlapVisibility.objects.values_list("owner", "viewer", "level")) == before


def test_a_stranger_and_a_missing_slug_get_the_same_404(
    alliance: Agreement, outsider: Partner, partner_key: Key
) -> None:
    client = client_for(partner_key)
    stranger = client.put("/api/v1/overlap/visibility/outsider-co", {"level": "counts"})
    nobody = client.put("/api/v1/overlap/visibility/nobody-co", {"level": "counts"})

    assert stranger.status_code == 404
    assert stranger.content == nobody.content
