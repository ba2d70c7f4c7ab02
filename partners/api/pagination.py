from typing import Any

from django.conf import settings
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from partners.errors import ApplicationError, ErrorCode, validation_failed


class CappedCursorPagination(CursorPagination):
    """Cursor pages (stable under inserts, cheap at any depth) of ``limit`` items.

    A ``limit`` above SANPO_API_MAX_PAGE_SIZE is refused with 400 rather than silently cut, so
    a client never mistakes a short page for the end of the list.
    """

    page_size = 50
    page_size_query_param = "limit"
    ordering = "-created_at"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        maximum: int = settings.SANPO_API_MAX_PAGE_SIZE
        if not raw.isdigit() or not 1 <= int(raw) <= maximum:
            raise validation_failed("limit", f"Give a whole number from 1 to {maximum}.")
        return int(raw)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except Exception:
            raise ApplicationError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.") from None
