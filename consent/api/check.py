"""The one question, for the caller as recipient."""

import collections
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from prometheus_client import Counter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from consent.api.fields import (
    DECISION_REASONS,
    READ,
)
from consent.models import (
    Purpose,
)
from consent.selectors import consent_check_many
from partners.access import access_member_ids_by_numbers
from partners.api.base import Handler, PartnerEndpoint, StrictInputSerializer
from partners.api.fields import NamedChoiceField
from partners.errors import validation_failed
from partners.services.members import MAX_BULK_MEMBERS

# For the operator's /metrics (config.metrics).
CHECKS = Counter("sanpo_consent_checks", "Consent check requests answered.")
DECISIONS = Counter(
    "sanpo_consent_check_decisions", "Members answered by consent checks, by reason.", ["reason"]
)


class ConsentCheckApi(PartnerEndpoint):
    """The one question, for the caller as recipient: may I use these members' data for this
    purpose now? A read, sent as POST only because a thousand member numbers do not fit in a
    URL."""

    required_scopes = {"POST": READ}

    class ConsentCheckInput(StrictInputSerializer):
        purpose = serializers.CharField(max_length=40, help_text="A purpose code.")
        members = serializers.ListField(
            child=serializers.CharField(max_length=64),
            min_length=1,
            max_length=MAX_BULK_MEMBERS,
            help_text="Member numbers of your own base.",
        )

    class ConsentCheckOutput(serializers.Serializer):
        class ConsentCheckResultOutput(serializers.Serializer):
            member_number = serializers.CharField(help_text="As sent.")
            allowed = serializers.BooleanField()
            reason = NamedChoiceField(
                schema_name="ConsentDecisionReasonEnum",
                choices=DECISION_REASONS,
                help_text="`consented` when allowed; otherwise why not. `not_found`: no such "
                "member in your base.",
            )

        results = ConsentCheckResultOutput(many=True, help_text="One per number, in order.")

    def _run_idempotently(
        self, handler: Handler, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        # The answer must be the current one: replaying a stored "allowed" after a withdrawal
        # would break the promise that a withdrawal is in force for every check at once. So an
        # Idempotency-Key is neither required nor stored here; a retry simply asks again.
        return self._run_atomically(handler, request, *args, **kwargs)

    @extend_schema(
        request=ConsentCheckInput,
        responses=ConsentCheckOutput,
        operation_id="consent_check",
        summary="Check consent",
        description="Whether each of your members' data may be used by you, for this purpose, "
        "now, and why not: `not_consented`, `withdrawn`, `expired`, `notice_changed` (the "
        f"conditions changed since), `member_unavailable`, `recipient_unavailable`. Up to "
        f"{MAX_BULK_MEMBERS} members at once; a number not in your base answers `not_found` "
        "in its place. A read, sent as POST only because a thousand member numbers do not "
        "fit in a URL: it needs only the read scope, and an Idempotency-Key is ignored (a "
        "withdrawal is in force for every check at once, so an answer is never replayed).",
        examples=[
            OpenApiExample(
                "Three members",
                value={
                    "purpose": "co_marketing_contact",
                    "members": ["M-20261201-0042", "M-20261201-0043", "M-0000-9999"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "The answers, in order",
                value={
                    "results": [
                        {
                            "member_number": "M-20261201-0042",
                            "allowed": True,
                            "reason": "consented",
                        },
                        {
                            "member_number": "M-20261201-0043",
                            "allowed": False,
                            "reason": "withdrawn",
                        },
                        {"member_number": "M-0000-9999", "allowed": False, "reason": "not_found"},
                    ]
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        values = self.validated(self.ConsentCheckInput)
        purpose_code: str = values["purpose"]
        numbers: list[str] = values["members"]
        if not Purpose.objects.filter(code=purpose_code, active=True).exists():
            raise validation_failed(
                "purpose", _("There is no purpose %(code)r.") % {"code": purpose_code}
            )
        member_ids = access_member_ids_by_numbers(self.partner, numbers)
        decisions = consent_check_many(
            member_ids=set(member_ids.values()), purpose_code=purpose_code, recipient=self.partner
        )
        results = []
        for number in numbers:
            member_id = member_ids.get(number)
            if member_id is None:
                results.append({"member_number": number, "allowed": False, "reason": "not_found"})
            else:
                decision = decisions[member_id]
                results.append(
                    {
                        "member_number": number,
                        "allowed": decision.allowed,
                        "reason": decision.reason,
                    }
                )
        for reason, count in collections.Counter(r["reason"] for r in results).items():
            DECISIONS.labels(reason).inc(count)
        CHECKS.inc()
        return Response(self.ConsentCheckOutput({"results": results}).data)
