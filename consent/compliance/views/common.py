"""What every compliance page shares: pages of a list that keep their filters, the CSV twin of
a list, and the guard of a reviewer-only page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consent.compliance.access import compliance_reviewer_required


@dataclass(frozen=True)
class Paged:
    """One page of a list, with links to its neighbours that keep the other GET parameters
    (filters, and the other lists' pages on the member page)."""

    page: Page[Any]
    previous_url: str
    next_url: str


def paginate(
    request: HttpRequest,
    items: Sequence[Any] | Any,
    *,
    param: str = "page",
    per_page: int = 50,
    path: str = "",
    anchor: str = "",
) -> Paged:
    page = Paginator(items, per_page).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return f"{path or request.path}?{query.urlencode()}{f'#{anchor}' if anchor else ''}"

    return Paged(
        page=page,
        previous_url=url(page.previous_page_number()) if page.has_previous() else "",
        next_url=url(page.next_page_number()) if page.has_next() else "",
    )


def wants_csv(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == "csv" or request.GET.get("format") == "csv"


def csv_url(request: HttpRequest, path: str) -> str:
    """The CSV download of a list page, with its filters (and without its page number)."""
    query = request.GET.copy()
    for name in ("page", "format"):
        query.pop(name, None)
    return f"{path}?{query.urlencode()}" if query else path


def reviewer_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A GET-only page for compliance reviewers, never cached: it shows member records."""
    return never_cache(require_GET(compliance_reviewer_required(view)))
