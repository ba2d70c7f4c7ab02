"""The answer to an access request: everything held about the member, as one JSON document
(format ``EXPORT_FORMAT``), one section per kind of record."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import (
    ConsentEvent,
    ConsentState,
    DataSubjectRequest,
    ProvisionRecord,
    WithdrawalNotice,
)
from consent.services.data_requests import request_complete
from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode
from partners.models import MemberAccount, Partner
from partners.services import member_reveal

EXPORT_FORMAT = "sanpo-data-subject-export/1"
Section = list[dict[str, Any]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def data_request_export(*, request: DataSubjectRequest, actor: Actor) -> dict[str, Any]:
    """Everything held about the member of an access request, as one JSON document: the
    account and its personal data, the consent history and current state with every
    recipient, what was provided to whom under which consent, the withdrawals sent, and the
    member's requests. Opening the personal data is logged; the request is completed by the
    first export and may be exported again until it is due.

    Raises ApplicationError (conflict) for an erasure request or an erased member.
    """
    if request.kind != DataSubjectRequest.Kind.ACCESS:
        raise ApplicationError(ErrorCode.CONFLICT, _("Only an access request has an export."))
    member = request.member
    if member.status == MemberAccount.Status.ERASED:
        raise ApplicationError(ErrorCode.CONFLICT, _("This member's data has been erased since."))
    personal = member_reveal(
        member=member, actor=actor, purpose=f"data-subject access request {request.pk}"
    )
    states = list(
        ConsentState.objects.filter(member=member)
        .select_related("recipient", "notice")
        .order_by("recipient__slug", "purpose_id")
    )
    provisions = list(
        ProvisionRecord.objects.filter(member=member)
        .select_related("provider", "recipient")
        .order_by("provided_at")
    )
    recipients = {state.recipient for state in states} | {p.recipient for p in provisions}
    document = {
        "format": EXPORT_FORMAT,
        "request": {
            "id": str(request.pk),
            "received_at": _iso(request.received_at),
            "exported_at": _iso(timezone.now()),
        },
        "account": _account(member, personal),
        "known_to_recipients_as": _pseudonyms(member, recipients),
        "consent_history": _consent_history(member),
        "consents_now": [_consent_now(state) for state in states],
        "provisions": [_provision(record) for record in provisions],
        "withdrawals_sent": _withdrawals_sent(member),
        "requests": _requests(member),
    }
    if request.status != DataSubjectRequest.Status.COMPLETED:
        request_complete(request)
    return document


def _account(member: MemberAccount, personal: dict[str, Any]) -> dict[str, Any]:
    return {
        "holder": member.partner.slug,
        "holder_name": member.partner.name_latin,
        "member_number": member.member_number,
        "kind": member.kind,
        "status": member.status,
        "prefecture": member.prefecture,
        "joined_on": _iso(member.joined_on),
        "last_active_on": _iso(member.last_active_on),
        "personal_data": personal,
    }


def _pseudonyms(member: MemberAccount, recipients: set[Partner]) -> dict[str, str]:
    return {
        recipient.slug: pii.pseudonym_for(member.pk, recipient.pk)
        for recipient in sorted(recipients, key=lambda partner: partner.slug)
    }


def _consent_history(member: MemberAccount) -> Section:
    events = (
        ConsentEvent.objects.filter(member=member)
        .select_related("recipient", "notice")
        .order_by("sequence")
    )
    return [
        {
            "sequence": event.sequence,
            "action": event.action,
            "purpose": event.purpose_id,
            "recipient": event.recipient.slug,
            "occurred_at": _iso(event.occurred_at),
            "recorded_at": _iso(event.recorded_at),
            "channel": event.channel,
            "captured_by": event.captured_by,
            "notice": (
                {"version": event.notice.version, "language": event.notice.language}
                if event.notice is not None
                else None
            ),
            "expires_at": _iso(event.expires_at),
            "jurisdiction": event.jurisdiction,
            "hash": event.hash,
        }
        for event in events
    ]


def _consent_now(state: ConsentState) -> dict[str, Any]:
    return {
        "purpose": state.purpose_id,
        "recipient": state.recipient.slug,
        "granted": state.granted,
        "expires_at": _iso(state.expires_at),
        "changed_at": _iso(state.changed_at),
    }


def _provision(record: ProvisionRecord) -> dict[str, Any]:
    return {
        "provided_at": _iso(record.provided_at),
        "provider": record.provider.slug,
        "recipient": record.recipient.slug,
        "purpose": record.purpose_id,
        "data_items": record.data_items,
        "consent_relied_on": str(record.consent_event_id),
        "recipient_obtained_from": record.recipient_obtained_from,
        "kept_until": _iso(record.retain_until),
    }


def _withdrawals_sent(member: MemberAccount) -> Section:
    notices = (
        WithdrawalNotice.objects.filter(event__member=member)
        .select_related("recipient", "event")
        .order_by("created_at")
    )
    return [
        {
            "recipient": notice.recipient.slug,
            "purpose": notice.event.purpose_id,
            "sent_at": _iso(notice.created_at),
            "times_sent": notice.times_sent,
            "acknowledged_at": _iso(notice.acknowledged_at),
        }
        for notice in notices
    ]


def _requests(member: MemberAccount) -> Section:
    return [
        {
            "id": str(other.pk),
            "kind": other.kind,
            "status": other.status,
            "received_at": _iso(other.received_at),
            "completed_at": _iso(other.completed_at),
        }
        for other in member.data_subject_requests.order_by("received_at")
    ]
