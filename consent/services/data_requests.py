"""Data-subject requests: a member asks to see everything the federation holds about them
(access) or to have their personal data erased (erasure).

Identity comes first. A request is written only after the facts the requester gave matched the
member's record: e-mail and phone through the keyed blind indexes, the birth date by opening
that one field. A request that repeats an open one is verified just the same before the open
one is returned, so knowing a member number and that a request exists gets nobody anything.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.errors import ConsentErrorCode
from consent.models import DataSubjectRequest
from partners import pii
from partners.actors import Actor
from partners.errors import ApplicationError, ErrorCode, validation_failed
from partners.models import MemberAccount, Partner
from partners.normalize import (
    InvalidValueError,
    normalize_date,
    normalize_email,
    normalize_phone,
)
from partners.services import member_erase
from partners.services.member_records import open_member

IDENTITY_FACTS = ("email", "phone", "birth_date")
# Two independent facts: a member number and one e-mail address are too easy to come by.
MIN_IDENTITY_FACTS = 2


def _unverified() -> ApplicationError:
    # One message whichever fact failed, so the answer cannot be used to test facts one by one.
    return ApplicationError(
        ConsentErrorCode.IDENTITY_NOT_VERIFIED,
        _("The identity given does not match the member's record; nothing was done."),
    )


def _same(stored: bytes | memoryview | None, given: bytes | None) -> bool:
    return stored is not None and given is not None and hmac.compare_digest(bytes(stored), given)


def identity_verify(*, member: MemberAccount, identity: Mapping[str, str]) -> list[str]:
    """The names of the facts that matched the member's record, or ApplicationError.

    Raises validation_failed when fewer than two facts are given, identity_not_verified when
    any given fact does not match (or the account is erased: nothing is left to match).
    """
    given = {name: str(identity.get(name) or "").strip() for name in IDENTITY_FACTS}
    given = {name: value for name, value in given.items() if value}
    if len(given) < MIN_IDENTITY_FACTS:
        raise validation_failed(
            "identity", _("Give at least two of: email, phone, birth_date (YYYY-MM-DD).")
        )
    if member.status == MemberAccount.Status.ERASED or member.wrapped_key is None:
        raise _unverified()
    indexer = pii.BlindIndexer(member.index_key_id)
    try:
        checks = {
            "email": lambda value: _same(member.email_index, indexer.email(normalize_email(value))),
            "phone": lambda value: _same(member.phone_index, indexer.phone(normalize_phone(value))),
            "birth_date": lambda value: hmac.compare_digest(
                (open_member(member, ("birth_date",))["birth_date"] or "").encode(),
                normalize_date(value).isoformat().encode(),
            ),
        }
        if not all(checks[name](value) for name, value in given.items()):
            raise _unverified()
    except InvalidValueError:
        raise _unverified() from None
    return sorted(given)


def data_request_submit(
    *,
    member: MemberAccount,
    kind: str,
    identity: Mapping[str, str],
    received_via: Partner,
    actor: Actor,
) -> tuple[DataSubjectRequest, bool]:
    """Verify the requester, then record the request (or find the open one it repeats).
    Returns the request and whether it is new.

    An erasure runs at once, in the same transaction: the member's data key is destroyed, every
    consent withdrawn and every recipient told. Repeating an erasure of an erased member
    returns the completed request and changes nothing.
    """
    if kind not in DataSubjectRequest.Kind.values:
        raise validation_failed("kind", _("Give a kind: access or erasure."))
    if member.status == MemberAccount.Status.ERASED and kind == DataSubjectRequest.Kind.ERASURE:
        done = member.data_subject_requests.filter(kind=kind).order_by("-received_at").first()
        if done is not None:
            return done, False
        raise ApplicationError(ErrorCode.CONFLICT, _("This member's data has already been erased."))
    verified_with = identity_verify(member=member, identity=identity)
    with transaction.atomic():
        member = MemberAccount.objects.select_for_update().get(pk=member.pk)
        if member.status == MemberAccount.Status.ERASED:  # erased while we verified
            raise ApplicationError(ErrorCode.CONFLICT, _("This member's data has been erased."))
        open_request = member.data_subject_requests.filter(
            kind=kind, status=DataSubjectRequest.Status.VERIFIED
        ).first()
        if open_request is not None:
            return open_request, False
        now = timezone.now()
        request = DataSubjectRequest.objects.create(
            member=member,
            kind=kind,
            received_at=now,
            due_at=now + timedelta(days=settings.SANPO_DSR_DUE_DAYS),
            received_via=received_via,
            requested_by=actor.label[:200],
            verified_with=verified_with,
        )
        if kind == DataSubjectRequest.Kind.ERASURE:
            member_erase(member=member, actor=actor)
            request_complete(request)
    return request, True


def request_complete(request: DataSubjectRequest) -> None:
    request.status = DataSubjectRequest.Status.COMPLETED
    request.completed_at = timezone.now()
    request.save(update_fields=["status", "completed_at"])
