"""The lifecycle actions on an agreement's page: each reads the POST of its form, calls one
service and returns the message to show. A refusal is an ApplicationError, which the page shows
as an error message. ``ActionPage`` is the one URL they are posted to."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.agreements import services
from federation.agreements.admin.base import AgreementConsole
from federation.agreements.models import Agreement, AgreementVersion
from partners.actors import Actor
from partners.admin.base import error_text
from partners.errors import ApplicationError, ErrorCode
from partners.normalize import whole_number

# How a signature recorded by a manager was given: there is no e-signature in the console. The
# code is stored in the signature (every party reads it, in English); the name is shown.
SIGNED_HOW = {"on paper": gettext_lazy("on paper"), "in person": gettext_lazy("in person")}


def _refused(message: str, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> ApplicationError:
    return ApplicationError(code, message)


def _version(request: HttpRequest, agreement: Agreement) -> AgreementVersion:
    # The page names the version it showed, so a stale page never acts on another one.
    number = whole_number(request.POST.get("version"))
    version = agreement.versions.filter(number=number).first() if number is not None else None
    if version is None:
        raise _refused(_("No such version."), ErrorCode.NOT_FOUND)
    return version


def propose(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    version = services.version_propose(version=_version(request, agreement), actor=actor)
    return _("v%(number)s is proposed: every party is asked to sign it.") % {
        "number": version.number
    }


def withdraw(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    version = services.version_withdraw(version=_version(request, agreement), actor=actor)
    return _("v%(number)s is withdrawn.") % {"number": version.number}


def sign(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    version = _version(request, agreement)
    try:
        partner_id = uuid.UUID(request.POST.get("partner", ""))
    except ValueError:
        raise _refused(_("Choose the party that signed.")) from None
    party = version.parties.select_related("partner").filter(partner_id=partner_id).first()
    if party is None:
        raise _refused(_("That company is not a party to this version."), ErrorCode.NOT_FOUND)
    how = request.POST.get("how", "")
    if how not in SIGNED_HOW:
        raise _refused(_("Say how the party signed: on paper or in person."))
    name = request.POST.get("signed_by", "").strip()
    # The service appends who recorded it, "(user <manager>)"; this part says how it was given.
    version = services.version_sign(
        version=version,
        partner=party.partner,
        signed_by=f"{name}, {how}" if name else "",
        actor=actor,
    )
    named = {"party": party.partner.slug, "number": version.number}
    if version.status == AgreementVersion.Status.SIGNED:
        return (
            _(
                "The signature of %(party)s on v%(number)s is recorded. Every party has signed "
                "v%(number)s."
            )
            % named
        )
    return _("The signature of %(party)s on v%(number)s is recorded.") % named


def suspend(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    services.agreement_suspend(
        agreement=agreement, reason=request.POST.get("reason", ""), actor=actor
    )
    return _("The agreement is suspended: nothing it allows may happen until it is resumed.")


def resume(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    services.agreement_resume(agreement=agreement, actor=actor)
    return _("The agreement is active again.")


def terminate(request: HttpRequest, agreement: Agreement, actor: Actor) -> str:
    services.agreement_terminate(
        agreement=agreement, reason=request.POST.get("reason", ""), actor=actor
    )
    return _("The agreement is terminated.")


ACTIONS: dict[str, Callable[[HttpRequest, Agreement, Actor], str]] = {
    "propose": propose,
    "withdraw": withdraw,
    "sign": sign,
    "suspend": suspend,
    "resume": resume,
    "terminate": terminate,
}


class ActionPage(AgreementConsole):
    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST only: a link followed, prefetched or crawled changes nothing."""
        agreement = self.agreement_of(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = ACTIONS.get(action)
        if run is None:
            raise Http404(_("No such action."))
        try:
            done = run(request, agreement, Actor.from_request(request))
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        else:
            self.log_change(request, agreement, done)
            messages.success(request, done)
        return HttpResponseRedirect(self.change_url(agreement))
