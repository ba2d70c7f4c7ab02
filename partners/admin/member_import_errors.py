"""How an import's page shows what went wrong: a refused import says so in its progress
column, and the first rows of its error report are shown on the page as well as offered as a
file."""

import csv
import io
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partners.models import MemberImport
from partners.services.member_import import ERROR_REPORT_COLUMNS

ERROR_REPORT_HEADER = {
    "line": pgettext_lazy("error report column", "line"),
    "column": pgettext_lazy("error report column", "column"),
    "code": pgettext_lazy("error report column", "code"),
    "message": pgettext_lazy("error report column", "message"),
}
# Imports that imported nothing, with the word their progress column shows.
REFUSED_LABELS = {
    MemberImport.Status.REJECTED: pgettext_lazy("import progress", "Rejected"),
    MemberImport.Status.FAILED: pgettext_lazy("import progress", "Refused"),
}
REFUSED = tuple(REFUSED_LABELS)
INLINE_ERRORS = 20  # rows of the report shown on the page; the file has them all


def first_errors(job: MemberImport, *, limit: int = INLINE_ERRORS) -> list[list[str]]:
    """The first ``limit`` rows of the job's stored error report (without its header)."""
    rows: list[list[str]] = []
    with job.errors.open("rb") as stored:
        text = io.TextIOWrapper(stored, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        next(reader, None)  # the stored header
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def import_errors_context(job: MemberImport, may_view_personal_data: bool) -> dict[str, Any]:
    """What the job's page shows of its errors: to those who may download the error report
    (who may see personal data, see ``MemberImportAdmin.errors_view``), and to no one else."""
    context: dict[str, Any] = {
        "error_header": [ERROR_REPORT_HEADER[name] for name in ERROR_REPORT_COLUMNS],
        "error_count": job.rows_invalid,
        "errors_hidden": not may_view_personal_data,
        "error_rows": [],
    }
    if may_view_personal_data:
        context["error_rows"] = first_errors(job)
    context["errors_more"] = job.rows_invalid > len(context["error_rows"])
    context["errors_title"] = _("Errors")
    return context
