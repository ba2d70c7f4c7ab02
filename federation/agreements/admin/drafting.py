"""The terms form, one for three cases: a new agreement with its first version, the next
version of an agreement (starting from its latest terms), and a draft being changed. It calls
the drafting services and shows their refusals next to the fields they name."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from federation.agreements import services
from federation.agreements.admin.base import AgreementConsole
from federation.agreements.admin.forms import (
    PartyFormSet,
    VersionForm,
    draft_from,
    example_terms,
    party_rows,
    place_errors,
    version_initial,
)
from federation.agreements.admin.listing import latest
from federation.agreements.admin.terms_forms import TermsForms
from federation.agreements.models import Agreement, AgreementVersion
from federation.agreements.services import VersionDraft
from federation.kernel.admin import is_alliance_manager
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import Partner


class DraftingPages(AgreementConsole):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_alliance_manager(request.user)  # through the terms form below

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._terms_view(request, agreement=None, version=None)

    def version_new_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        agreement = self.agreement_of(request, object_id)
        return self._terms_view(request, agreement=agreement, version=None)

    def version_edit_view(self, request: HttpRequest, object_id: str, number: int) -> HttpResponse:
        agreement = self.agreement_of(request, object_id)
        version = agreement.versions.filter(number=number).first()
        if version is None:
            raise Http404(_("No such version."))
        if version.status != AgreementVersion.Status.DRAFT:
            messages.info(
                request,
                _(
                    "v%(number)s is %(status)s: only a draft can be changed. Its terms are shown "
                    "below."
                )
                % {"number": version.number, "status": version.get_status_display().lower()},
            )
            return HttpResponseRedirect(self.change_url(agreement))
        return self._terms_view(request, agreement=agreement, version=version)

    def _terms_view(
        self,
        request: HttpRequest,
        *,
        agreement: Agreement | None,
        version: AgreementVersion | None,
    ) -> HttpResponse:
        party_errors: list[str] = []
        if request.method == "POST":
            form = VersionForm(request.POST, creating=agreement is None)
            formset = PartyFormSet(request.POST, prefix="parties")
            terms = TermsForms(data=request.POST)
            if all([form.is_valid(), formset.is_valid(), terms.is_valid()]):
                try:
                    saved = self._save_terms(
                        request,
                        draft_from(form.cleaned_data, formset, terms),
                        form,
                        agreement,
                        version,
                    )
                except ApplicationError as exc:
                    party_errors = place_errors(exc, form, terms)
                else:
                    return HttpResponseRedirect(self.change_url(saved))
        else:
            form, formset, terms = _forms_to_start(agreement, version)
        return self.page(
            request,
            "admin/federation/agreement/terms_form.html",
            title=_title(agreement, version),
            original=agreement,
            version=version,
            form=form,
            formset=formset,
            terms=terms,
            party_errors=party_errors,
            has_errors=request.method == "POST",  # a saved form has redirected
            change_url=self.change_url(agreement) if agreement is not None else None,
        )

    def _save_terms(
        self,
        request: HttpRequest,
        draft: VersionDraft,
        form: VersionForm,
        agreement: Agreement | None,
        version: AgreementVersion | None,
    ) -> Agreement:
        data = form.cleaned_data
        actor = Actor.from_request(request)
        if agreement is None:
            agreement = services.agreement_create(
                title=data["title"], host=data["host"], actor=actor, **draft
            )
            self.log_addition(request, agreement, _("Created with draft v1."))
            messages.success(
                request, _("“%(agreement)s” is created with draft v1.") % {"agreement": agreement}
            )
        elif version is None:
            version = services.version_draft(agreement=agreement, actor=actor, **draft)
            self.log_change(
                request, agreement, _("Drafted v%(number)s.") % {"number": version.number}
            )
            messages.success(request, _("Draft v%(number)s is saved.") % {"number": version.number})
        else:
            services.version_update(version=version, actor=actor, **draft)
            self.log_change(
                request, agreement, _("Changed draft v%(number)s.") % {"number": version.number}
            )
            messages.success(request, _("Draft v%(number)s is saved.") % {"number": version.number})
        return agreement


def _forms_to_start(
    agreement: Agreement | None, version: AgreementVersion | None
) -> tuple[VersionForm, Any, TermsForms]:
    """The forms as first shown: a draft's own terms, a new version's from the latest one
    (effective from today on), or an example for a new agreement."""
    host = agreement.host if agreement is not None else _the_host()
    start = version
    if start is None and agreement is not None:
        start = latest(list(agreement.versions.order_by("number")))
    initial = version_initial(start, host)
    if version is None and start is not None:  # a new version: effective from now on
        today = timezone.localdate()
        initial.update(effective_from=max(today, start.effective_from), summary="")
    form = VersionForm(initial=initial, creating=agreement is None)
    terms = TermsForms(document=start.terms if start is not None else example_terms(host))
    return form, PartyFormSet(prefix="parties", initial=party_rows(start, host)), terms


def _title(agreement: Agreement | None, version: AgreementVersion | None) -> str:
    if agreement is None:
        return _("Add agreement")
    if version is None:
        return _("New version of %(agreement)s") % {"agreement": agreement}
    return _("Draft v%(number)s of %(agreement)s") % {
        "number": version.number,
        "agreement": agreement,
    }


def _the_host() -> Partner | None:
    return Partner.objects.filter(kind=Partner.Kind.HOST).first()
