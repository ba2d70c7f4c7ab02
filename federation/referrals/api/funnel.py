"""A company's own referral funnel, per offer and day."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import READ, FederationEndpoint
from federation.referrals.api.outputs import ReferralFunnelOutput, funnel_row_view
from federation.referrals.selectors import funnel_of
from partners.api.schema import raises
from partners.errors import ErrorCode, validation_failed

MAX_DAYS = 92
DEFAULT_DAYS = 30


# Days the funnel answers for: any other is refused, not left to overflow a date (to=0001-01-08).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _day(raw: str | None, name: str, default: date) -> date:
    if raw is None:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise validation_failed(name, _("A date, YYYY-MM-DD.")) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise validation_failed(name, _("A date, YYYY-MM-DD, from 2000 to 2999."))
    return day


class ReferralFunnelApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", date, description="The first day, 2000 to 2999 (default: 30 days ago)."
            ),
            OpenApiParameter(
                "to", date, description="The last day, 2000 to 2999 (default: today)."
            ),
            OpenApiParameter("offer", uuid.UUID, description="Only this offer of yours."),
        ],
        responses=ReferralFunnelOutput,
        operation_id="referrals_funnel",
        summary="Your referral funnel",
        description="Per offer your company is party to and per day in Japan (`from` to `to`, "
        f"at most {MAX_DAYS} days): clicks, conversions that count, flagged and rejected ones, "
        "and the fees (net of clawbacks) your company earns as the `source` or owes as the "
        "`destination`. Days without activity are left out. An offer that is not yours "
        "simply has no rows.",
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> Response:
        params = request.query_params
        today = timezone.localdate()
        last = _day(params.get("to"), "to", today)
        first = _day(params.get("from"), "from", last - timedelta(days=DEFAULT_DAYS - 1))
        if not timedelta(0) <= last - first < timedelta(days=MAX_DAYS):
            raise validation_failed(
                "from", _("From on or before to, at most %(days)s days.") % {"days": MAX_DAYS}
            )
        offer_ids = None
        if "offer" in params:
            try:
                offer_ids = [uuid.UUID(params["offer"])]
            except ValueError:
                raise validation_failed("offer", _("An offer id.")) from None
        rows = funnel_of(self.partner, first=first, last=last, offer_ids=offer_ids)
        return Response(ReferralFunnelOutput({"rows": [funnel_row_view(row) for row in rows]}).data)
