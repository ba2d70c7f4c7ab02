"""The partner console's agreements (``partners.admin.partner_console``): those the company is
a party to (its guardian grants, ``agreement_list``), and which of them await its signature.
Signing stays in the API, where a signature is scoped, idempotent and audited."""

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from federation.agreements.models import Agreement, AgreementParty, AgreementVersion
from federation.agreements.selectors import agreement_list
from partners.admin.partner_console import PartnerConsoleAdmin, partner_site
from partners.models import Partner


class PartnerAgreementAdmin(PartnerConsoleAdmin):
    list_display = ["title", "host", "status", "awaits_signature"]
    list_filter = ["status"]
    fields = readonly_fields = ("title", "host", "status", "awaits_signature", "created_at")

    def own_rows(self, partner: Partner) -> QuerySet[Any]:
        unsigned = AgreementParty.objects.filter(
            version__agreement=OuterRef("pk"),
            version__status=AgreementVersion.Status.PROPOSED,
            partner=partner,
            signed_at__isnull=True,
        )
        return agreement_list(principal=partner).annotate(awaiting=Exists(unsigned))

    @admin.display(description=_("awaits your signature"), boolean=True, ordering="-awaiting")
    def awaits_signature(self, agreement: Agreement) -> bool:
        return bool(agreement.awaiting)  # type: ignore[attr-defined]


def register_partner_console() -> None:
    partner_site.register(Agreement, PartnerAgreementAdmin)
