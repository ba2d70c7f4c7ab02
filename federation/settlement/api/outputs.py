"""What the settlement endpoints answer: yen as strings of whole yen (exact values to 0.0001
yen), never binary floating point."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from federation.kernel.api import choice_field
from federation.settlement.models import (
    SettlementDispute,
    SettlementLine,
    SettlementPeriod,
    SettlementRun,
)

STATUS = ["provisional", "issued", "acknowledged", "disputed", "paid"]


class PeriodOutput(serializers.Serializer):
    id = serializers.UUIDField()
    first_day = serializers.DateField(help_text="Asia/Tokyo day, included.")
    last_day = serializers.DateField(help_text="Asia/Tokyo day, included.")
    state = choice_field(SettlementPeriod.State)
    net_yen = serializers.CharField(
        help_text="Your net position: positive, the host pays you; negative, you pay the host."
    )
    status = serializers.ChoiceField(choices=STATUS, help_text="Your statement's status.")


class LineOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Name it to dispute the line.")
    number = serializers.IntegerField(help_text="The line's number on every statement.")
    kind = choice_field(SettlementLine.Kind)
    debtor = serializers.CharField(allow_null=True, help_text="The company that owes it.")
    creditor = serializers.CharField(allow_null=True, help_text="The company owed.")
    direction = serializers.ChoiceField(
        choices=["pay", "receive", "memo"], help_text="memo: shown, never paid."
    )
    coins = serializers.IntegerField()
    exact_yen = serializers.CharField(help_text="The ledger's value, to 0.0001 yen.")
    amount_yen = serializers.CharField(help_text="Whole yen, as settled.")
    adjusts = serializers.IntegerField(allow_null=True, help_text="The line it corrects.")
    note = serializers.CharField()


class DisputeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    line = serializers.IntegerField()
    raised_by = serializers.CharField()
    reason = serializers.CharField()
    state = choice_field(SettlementDispute.State)
    raised_at = serializers.DateTimeField()
    resolution = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    adjustment = serializers.IntegerField(allow_null=True)


class TotalsOutput(serializers.Serializer):
    receivable_yen = serializers.CharField()
    payable_yen = serializers.CharField()
    net_yen = serializers.CharField()


class PaymentStatusOutput(serializers.Serializer):
    amount_yen = serializers.CharField(help_text="The net amount paid, whole yen.")
    reference = serializers.CharField(help_text="The bank's reference the host recorded.")
    recorded_at = serializers.DateTimeField()


class ComputationOutput(serializers.Serializer):
    stage = choice_field(SettlementRun.Stage)
    percent = serializers.IntegerField(min_value=0, max_value=100)
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        help_text="When it last moved: a stage that stops moving was a run interrupted; the "
        "host computes again."
    )


class PeriodDetailOutput(serializers.Serializer):
    period = PeriodOutput()
    totals = TotalsOutput()
    sha256 = serializers.CharField(help_text="SHA-256 of your statement's canonical JSON.")
    issued_at = serializers.DateTimeField(allow_null=True)
    payment = PaymentStatusOutput(
        allow_null=True, help_text="Your statement's payment once the host recorded it."
    )
    computation = ComputationOutput(
        allow_null=True, help_text="The period's last computation, running or finished."
    )
    lines = LineOutput(many=True)
    disputes = DisputeOutput(many=True)


class AcknowledgementOutput(serializers.Serializer):
    sha256 = serializers.CharField(help_text="The hash your company acknowledged.")
    acknowledged_at = serializers.DateTimeField()


class StatementOutput(serializers.Serializer):
    document = serializers.CharField(
        help_text="The canonical JSON (UTF-8, keys sorted, no spaces) the hash is taken of."
    )
    sha256 = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    signature = serializers.CharField(
        help_text="Ed25519 signature of the document's UTF-8 bytes, urlsafe base64; empty "
        "until the statement is issued."
    )
    key_id = serializers.CharField(help_text="The signing key, among /settlement/signing-keys.")


class SigningKeyOutput(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="The 32 raw bytes, urlsafe base64.")


class SigningKeysOutput(serializers.Serializer):
    keys = SigningKeyOutput(many=True, help_text="Newest first; the first signs new statements.")


def dispute_view(dispute: SettlementDispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "line": dispute.line_id,
        "raised_by": dispute.raised_by.slug,
        "reason": dispute.reason,
        "state": dispute.state,
        "raised_at": dispute.raised_at,
        "resolution": dispute.resolution,
        "resolved_at": dispute.resolved_at,
        "adjustment": dispute.adjustment_id,
    }
