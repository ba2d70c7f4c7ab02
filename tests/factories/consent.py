"""Privacy notices and consents."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from consent.models import ConsentEvent, PrivacyNotice
from consent.selectors import notice_in_force
from consent.services import consent_grant, notice_publish
from partners.actors import Actor
from partners.models import MemberAccount, Partner


def make_notice(
    *,
    purposes: Iterable[str],
    recipients: Iterable[Partner],
    data_items: Iterable[str],
    version: int = 1,
    language: str = "ja",
    text: str = "会員情報を提携先に提供します。",
    effective_at: datetime | None = None,
) -> PrivacyNotice:
    """A notice version in force since yesterday (or ``effective_at``)."""
    return notice_publish(
        version=version,
        language=language,
        text=text,
        purposes=purposes,
        recipients=recipients,
        data_items=data_items,
        effective_at=effective_at or timezone.now() - timedelta(days=1),
        actor=Actor.system(),
    )


def grant_consent(
    member: MemberAccount, recipient: Partner, *purposes: str, **options: Any
) -> list[ConsentEvent]:
    """The member consents to each purpose for ``recipient``, under the notice in force (or
    ``notice``), through the host's portal five minutes ago unless told otherwise."""
    notice = options.pop("notice", None) or notice_in_force()
    assert notice is not None, "publish a notice first (make_notice)"
    return [
        consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=recipient,
            notice=notice,
            channel=options.get("channel", "host_portal"),
            occurred_at=options.get("occurred_at", timezone.now() - timedelta(minutes=5)),
            actor=Actor.system(),
            expires_at=options.get("expires_at"),
        )
        for purpose in purposes
    ]
