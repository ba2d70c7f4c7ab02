"""A company's settlement as it may read it: its periods, its figures of one (provisional in
review, final once locked), and its statement as canonical JSON or CSV."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from federation.kernel.api import READ, FederationEndpoint
from federation.settlement.access import access_statement
from federation.settlement.api.outputs import (
    PeriodDetailOutput,
    PeriodOutput,
    SigningKeysOutput,
    StatementOutput,
    dispute_view,
)
from federation.settlement.exports import csv_response, line_row
from federation.settlement.models import SettlementPeriod, SettlementStatement
from federation.settlement.pdf import pdf_response
from federation.settlement.selectors import (
    disputes_of,
    last_run,
    lines_of,
    periods_of,
    statement_status,
)
from federation.settlement.signing import public_keys
from partners.api.filters import list_schema
from partners.api.pagination import CappedCursorPagination
from partners.api.schema import raises
from partners.errors import ErrorCode

YOURS = (
    "Only periods the host opened for review and in which your company has a statement; any "
    "other, like a missing one, is a 404."
)


class PeriodPagination(CappedCursorPagination):
    ordering = "-starts_on"


def period_view(period: SettlementPeriod, statement: SettlementStatement, disputed: bool) -> Any:
    return {
        "id": period.pk,
        "first_day": period.starts_on,
        "last_day": period.ends_on,
        "state": period.state,
        "net_yen": str(statement.net_yen),
        "status": statement_status(statement, disputed=disputed),
    }


class SettlementPeriodListApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    class PeriodFilters(df.FilterSet):
        state = df.ChoiceFilter(choices=SettlementPeriod.State.choices)

    @list_schema(
        PeriodFilters,
        PeriodOutput,
        operation_id="settlement_periods",
        summary="Your settlement periods",
        description="The settlement periods your company has a statement in, newest first, "
        "from the review on (the host's drafts are not shown), with your net position and "
        "your statement's status.",
    )
    @raises(ErrorCode.VALIDATION_FAILED)
    def get(self, request: Request) -> Response:
        mine = SettlementStatement.objects.filter(partner=self.partner).select_related(
            "payment", "acknowledgement"
        )
        periods = periods_of(self.partner).prefetch_related(
            Prefetch("statements", queryset=mine, to_attr="mine")
        )
        periods = periods.annotate(
            open_disputes=Count(
                "lines__disputes",
                filter=Q(lines__disputes__state="open", lines__disputes__raised_by=self.partner),
                distinct=True,
            )
        )
        return self.filtered_page(
            self.PeriodFilters,
            periods,
            PeriodOutput,
            pagination=PeriodPagination,
            present=lambda p: period_view(p, p.mine[0], p.open_disputes > 0),
        )


class SettlementPeriodApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=PeriodDetailOutput,
        operation_id="settlement_period",
        summary="Your figures of a settlement period",
        description="Your company's lines of the period (the lines you owe or are owed, and "
        "memo lines such as your breakage), your totals and net position, the hash of your "
        "statement, its payment once the host recorded it, the last computation's progress "
        "and the disputes on your lines. Provisional while the period is in review, "
        f"final once locked. {YOURS}",
    )
    @raises(ErrorCode.NOT_FOUND)
    def get(self, request: Request, period_id: str) -> Response:
        statement = access_statement(self.partner, period_id)
        period = statement.period
        disputes = list(disputes_of(period, self.partner))
        disputed = any(d.state == "open" and d.raised_by_id == self.partner.pk for d in disputes)
        body = {
            "period": period_view(period, statement, disputed),
            "totals": {
                "receivable_yen": str(statement.receivable_yen),
                "payable_yen": str(statement.payable_yen),
                "net_yen": str(statement.net_yen),
            },
            "sha256": statement.content_hash,
            "issued_at": statement.issued_at,
            "payment": _payment_of(statement),
            "computation": last_run(period),
            "lines": [line_row(line, self.partner.pk) for line in lines_of(period, self.partner)],
            "disputes": [dispute_view(d) for d in disputes],
        }
        return Response(PeriodDetailOutput(body).data)


def _payment_of(statement: SettlementStatement) -> dict[str, Any] | None:
    payment = getattr(statement, "payment", None)
    if payment is None:
        return None
    return {
        "amount_yen": str(payment.amount_yen),
        "reference": payment.reference,
        "recorded_at": payment.recorded_at,
    }


class SettlementStatementApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=StatementOutput,
        operation_id="settlement_statement",
        summary="Your statement of a settlement period",
        description="Your statement as its canonical JSON document (the rounding rule and the "
        "rule that every company settles one net amount through the host are in it) and its "
        "SHA-256: hash the document's UTF-8 bytes to check a copy. Once issued, the statement "
        "never changes and carries an Ed25519 signature of the document by the key `key_id` "
        f"(see /settlement/signing-keys). {YOURS}",
    )
    @raises(ErrorCode.NOT_FOUND)
    def get(self, request: Request, period_id: str) -> Response:
        statement = access_statement(self.partner, period_id)
        body = {
            "document": statement.document,
            "sha256": statement.content_hash,
            "issued_at": statement.issued_at,
            "signature": statement.signature,
            "key_id": statement.signing_key_id,
        }
        return Response(StatementOutput(body).data)


class SettlementSigningKeysApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses=SigningKeysOutput,
        operation_id="settlement_signing_keys",
        summary="The public keys that sign settlement statements",
        description="Every Ed25519 public key whose private half signs or signed issued "
        "statements, by key id. Verify a statement with the public key alone: the signature "
        "is over the document's UTF-8 bytes (`manage.py verify_settlement_statement`, or any "
        "Ed25519 library).",
    )
    def get(self, request: Request) -> Response:
        return Response(SigningKeysOutput({"keys": public_keys()}).data)


class SettlementStatementCsvApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        operation_id="settlement_statement_csv",
        summary="Your statement of a settlement period, as CSV",
        description="Your statement's lines as UTF-8 CSV (with a byte-order mark), one line "
        "a row in the statement's order, then your totals and the statement's SHA-256. "
        f"{YOURS}",
    )
    @raises(ErrorCode.NOT_FOUND)
    def get(self, request: Request, period_id: str) -> HttpResponse:
        statement = access_statement(self.partner, period_id)
        totals = [
            [name, str(getattr(statement, name))]
            for name in ("receivable_yen", "payable_yen", "net_yen")
        ]
        name = f"sanpo-settlement-{statement.period.starts_on:%Y%m%d}-{self.partner.slug}.csv"
        return csv_response(
            lines_of(statement.period, self.partner),
            filename=name,
            partner_id=self.partner.pk,
            footer=[*totals, ["sha256", statement.content_hash]],
        )


class SettlementStatementPdfApi(FederationEndpoint):
    required_scopes = {"GET": READ}

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        operation_id="settlement_statement_pdf",
        summary="Your statement of a settlement period, as PDF",
        description="Your statement for reading and filing: your company, the period, your "
        "lines in the statement's order, your totals and net position, the rule that every "
        "company settles one net amount through the host, the rounding rule, the statement's "
        "SHA-256 and, once issued, its signature and key id; labelled in Japanese and English. "
        "Drawn from the canonical JSON document: verify that one (`/statement`), not the PDF. "
        f"{YOURS}",
    )
    @raises(ErrorCode.NOT_FOUND)
    def get(self, request: Request, period_id: str) -> HttpResponse:
        return pdf_response(access_statement(self.partner, period_id))
