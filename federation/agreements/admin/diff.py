"""The page of what changed between two versions of an agreement."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from federation.agreements.admin.base import AgreementConsole
from federation.agreements.admin.readable import purpose_names
from federation.agreements.admin.wording import worded_diff
from federation.agreements.selectors import version_list
from partners.normalize import whole_number


class DiffPage(AgreementConsole):
    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """What changed between two versions: ?old=<n>&new=<m>, by default the latest version
        against the one before it."""
        agreement = self.agreement_of(request, object_id)
        versions = {version.number: version for version in version_list(agreement=agreement)}
        new_number = _number(request.GET.get("new"), default=max(versions, default=0))
        old_number = _number(request.GET.get("old"), default=new_number - 1)
        old, new = versions.get(old_number), versions.get(new_number)
        rows = None
        if old is not None and new is not None:
            rows = worded_diff(old, new, purpose_names())
        elif len(versions) > 1:
            raise Http404(_("No such version."))
        return self.page(
            request,
            "admin/federation/agreement/diff.html",
            original=agreement,
            title=f"{agreement}: v{old_number} → v{new_number}",
            numbers=sorted(versions),
            old=old,
            new=new,
            rows=rows,
            change_url=self.change_url(agreement),
        )


def _number(raw: str | None, *, default: int) -> int:
    if raw is None or raw == "":
        return default
    number = whole_number(raw)
    if number is None:
        raise Http404(_("No such version."))
    return number
