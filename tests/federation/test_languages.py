"""The federation in Japanese and English: the partner API's messages in the language
Accept-Language asks for (codes and statuses unchanged), and the names people read (statuses,
audit actions, error labels) in both languages."""

from typing import Any

import pytest
from django.utils import translation

from federation.audit import FederationAuditAction
from federation.errors import FederationErrorCode
from federation.models import Agreement, Enrollment, OverlapVisibility

pytestmark = pytest.mark.django_db


def test_the_names_people_read_are_in_both_languages() -> None:
    names: list[Any] = [
        Agreement.Status.ACTIVE.label,
        Agreement._meta.verbose_name,
        Enrollment.Status.CONFIRMED.label,
        OverlapVisibility.Level.COUNTS.label,
        FederationAuditAction.AGREEMENT_SIGNED.label,
        FederationErrorCode.NO_AGREEMENT.label,
    ]
    with translation.override("en"):
        english = [str(name) for name in names]
    with translation.override("ja"):
        japanese = [str(name) for name in names]

    assert english == [
        "Active",
        "agreement",
        "Confirmed by the target",
        "Counts only",
        "Agreement version signed by a party",
        "No active agreement between these companies allows this.",
    ]
    assert japanese == [
        "有効",
        "提携契約",
        "入会先企業が確認済み",
        "件数のみ",
        "当事者が提携契約の版に署名",
        "これらの企業の間に、これを認める有効な提携契約はありません。",
    ]
