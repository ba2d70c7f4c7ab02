"""An enrollment and a campaign as each of their two companies may see them, and the fields
of a request the two share."""

from typing import Any

from rest_framework import serializers

from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.kernel.api import choice_field
from partners.api.fields import NamedChoiceField
from partners.api.pagination import page_of
from partners.models import Partner
from partners.pii import pseudonym_for

ROLES = ["source", "target"]


def role_of(caller: Partner, source_id: Any) -> str:
    return "source" if source_id == caller.pk else "target"


def enrollment_view(enrollment: Enrollment, caller: Partner) -> dict[str, Any]:
    """The enrollment as ``caller`` may see it: the source its own member number, the target
    its pseudonymous id for the member and its own number. Never any personal data."""
    role = role_of(caller, enrollment.source_id)
    return {
        "id": enrollment.pk,
        "role": role,
        "status": enrollment.status,
        "source": enrollment.source.slug,
        "target": enrollment.target.slug,
        # Annotated by ``enrollments_visible_to``: the source's number, for the source alone.
        "member_number": enrollment.__dict__["member_number"] if role == "source" else None,
        "member": pseudonym_for(enrollment.member_id, enrollment.target_id)
        if role == "target"
        else None,
        "target_member_number": (enrollment.target_member_number or None)
        if role == "target"
        else None,
        "fields": enrollment.fields,
        "requested_at": enrollment.requested_at,
        "confirmed_at": enrollment.confirmed_at,
        "ended_at": enrollment.ended_at,
        "agreement_id": enrollment.agreement_id,
        "batch_id": enrollment.batch_id,
    }


def batch_view(batch: EnrollmentBatch, caller: Partner, *, numbers: bool) -> dict[str, Any]:
    """A campaign as ``caller`` may see it; with ``numbers``, the member numbers it was sent,
    for the source alone."""
    role = role_of(caller, batch.source_id)
    view: dict[str, Any] = {
        "id": batch.pk,
        "role": role,
        "status": batch.status,
        "source": batch.source.slug,
        "target": batch.target.slug,
        "fields": batch.fields,
        "total": batch.total,
        "processed": batch.processed,
        "enrolled": batch.enrolled,
        "error": batch.error,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }
    if numbers:
        view["member_numbers"] = batch.member_numbers if role == "source" else None
    return view


def fields_input(**kwargs: Any) -> serializers.ListField:
    """The member fields a request asks for the target to read: at least one, absent for
    every field allowed."""
    return serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        allow_empty=False,
        max_length=20,
        **kwargs,
    )


# --- Output ----------------------------------------------------------------------------------
#
# ``source`` and ``fields`` are the API's names (as in the model and the webhooks). DRF's
# metaclass takes declared fields off the class, so they do not shadow ``Field.source`` or
# ``Serializer.fields`` at run time; only the stubs see a clash, hence the ignores.


class _SideOutput(serializers.Serializer):
    # An enrollment or a campaign, seen from one of its two sides. (No docstring: the schema
    # would give it to every output below as its description.)

    id = serializers.UUIDField()
    role = NamedChoiceField(
        schema_name="EnrollmentRoleEnum",
        choices=ROLES,
        help_text="Your company's side: `source` (its member joins) or `target` (its program).",
    )


class EnrollmentOutput(_SideOutput):
    status = choice_field(
        Enrollment.Status,
        help_text="`active`: shared, awaiting the target's confirmation; `confirmed`: the target "
        "linked its own member number; `ended`: nothing more is shared.",
    )
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The slug of the company whose member joins."
    )
    target = serializers.CharField(help_text="The slug of the company whose program it is.")
    member_number = serializers.CharField(
        allow_null=True,
        help_text="Your member number for the member, if you are the source; null for the target, "
        "which never learns it.",
    )
    member = serializers.CharField(
        allow_null=True,
        help_text="If you are the target: your pseudonymous id for the member (`mp_…`), the same "
        "in webhooks and in `…/member`. Null for the source.",
    )
    target_member_number = serializers.CharField(
        allow_null=True,
        help_text="If you are the target: the member number you confirmed with; null until then, "
        "and always null for the source.",
    )
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="The member fields the target may read."
    )
    requested_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    agreement_id = serializers.UUIDField(help_text="The agreement it was made under.")
    batch_id = serializers.UUIDField(
        allow_null=True, help_text="The campaign that enrolled the member, if any."
    )


EnrollmentPageOutput = page_of(EnrollmentOutput)


class EnrollmentMemberOutput(serializers.Serializer):
    member = serializers.CharField(help_text="Your pseudonymous id for the member.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(allow_null=True),
        help_text="The member's allowed fields now: those of the enrollment that the agreement "
        "in force still allows. Segments (`age_band`, `prefecture`, `kind`) may be null.",
    )


class EnrollmentBatchOutput(_SideOutput):
    status = choice_field(
        EnrollmentBatch.Status,
        help_text="`queued`, `running`, then `done`, or `failed` (see `error`).",
    )
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    total = serializers.IntegerField(help_text="Distinct member numbers sent.")
    processed = serializers.IntegerField(help_text="Member numbers looked at so far.")
    enrolled = serializers.IntegerField(
        help_text="Members enrolled: active accounts of the source with both consents in force "
        "that were not enrolled with the target already. Numbers that are not the source's "
        "accounts are processed and skipped."
    )
    error = serializers.CharField(help_text="Why the batch failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class EnrollmentBatchDetailOutput(EnrollmentBatchOutput):
    member_numbers = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The source's member numbers, as sent (deduplicated, sorted). Null for the "
        "target, which never learns them.",
    )
