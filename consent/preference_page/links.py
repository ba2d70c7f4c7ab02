"""The preference page's link: signed, expiring, for one member, with no log-in.

The host's portal asks the API for a link (``preference_link_issue``); the page lists which
companies may use which of the member's data for what, and withdraws any of it with one click.
The link names one member account and nothing else: the signature covers the member id and the
time it was issued, and only the two views here accept it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing

from partners.actors import Actor
from partners.models import AuditEvent, MemberAccount
from partners.services import audit_record

_SALT = "sanpo.consent.preference-link"


def preference_link_token(member: MemberAccount) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(member.pk.hex)


def preference_link_member(token: str, *, actor: Actor) -> MemberAccount | None:
    """The member a token was issued for, or None if it is tampered with, expired, or the
    member is gone or erased. A token whose signature does not verify (altered, forged, or
    signed for something else) is recorded as ``token.refused``; an expired one is not."""
    max_age = timedelta(hours=settings.SANPO_PREFERENCE_LINK_HOURS)
    try:
        member_hex = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=max_age)
        member_id = uuid.UUID(hex=member_hex)
    except signing.SignatureExpired:
        return None
    except (signing.BadSignature, ValueError):
        # Never the token itself: it is refused, but it is still something a member was sent.
        audit_record(
            action=AuditEvent.Action.TOKEN_REFUSED,
            actor=actor,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"token": "preference link", "length": len(token)},
        )
        return None
    return (
        MemberAccount.objects.select_related("partner")
        .exclude(status=MemberAccount.Status.ERASED)
        .filter(pk=member_id)
        .first()
    )
