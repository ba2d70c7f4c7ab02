from typing import Any

from tests.conftest import Key, client_for


def test_me_answers_for_a_live_key(partner_key: Key) -> None:
    response = client_for(partner_key).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["partner"]["slug"] == "brand-co"


def test_me_refuses_without_a_key(db: Any) -> None:
    response = client_for(None).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"
