"""The console shows consent rows and can change none of them."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from consent.models import (
    ChainVerification,
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    PrivacyNotice,
    ProvisionRecord,
    Purpose,
    WithdrawalNotice,
)

pytestmark = pytest.mark.django_db
MODELS = [
    Purpose,
    PrivacyNotice,
    ConsentEvent,
    ConsentState,
    WithdrawalNotice,
    ProvisionRecord,
    DataSubjectRequest,
    ChainVerification,
]


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@sanpo.example", "pw-123456")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.model_name for m in MODELS])
def test_even_a_superuser_can_only_read_consent_rows(superuser_client: Client, model: Any) -> None:
    base = f"/admin/consent/{model._meta.model_name}/"

    assert superuser_client.get(base).status_code == 200
    assert superuser_client.get(base + "add/").status_code == 403
    assert superuser_client.post(base + "add/", {}).status_code == 403


def test_a_consent_event_cannot_be_changed_or_deleted_in_the_admin(
    superuser_client: Client,
) -> None:
    purpose = Purpose.objects.get(code="cross_enrollment")
    url = f"/admin/consent/purpose/{purpose.pk}/"

    assert superuser_client.post(url + "change/", {"name_en": "x"}).status_code == 403
    assert superuser_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    purpose.refresh_from_db()
    assert purpose.name_en == "Cross-enrollment"
