"""The dashboard's figures in the reader's language: the selectors' counts as charts
(``partners.charts``) with headline numbers, company and purpose names as the language writes
them, and days and months labelled as it does (2026年11月 / Nov 2026)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from consent.names import in_japanese
from federation.dashboard import selectors
from federation.dashboard.selectors import DUE_SOON_DAYS, Dashboard, Period, Window
from partners.charts import (
    Chart,
    Series,
    bar_chart,
    figure,
    line_chart,
    percent,
    ratio_gauge,
    stacked_bar_chart,
)


@dataclass(frozen=True)
class Headline:
    """One number at the top of a panel: what it counts, the number formatted, and whether it
    needs someone's attention (drawn as a warning)."""

    label: str
    value: str
    alert: bool = False


@dataclass(frozen=True)
class Panel:
    key: str  # a stable name for the page's anchors and the tests
    heading: str
    headlines: list[Headline]
    chart: Chart
    note: str = ""
    extra: list[Chart] = field(default_factory=list)


def bucket_label(window: Window, bucket: date) -> str:
    """A day (5 Dec / 12月5日) or a month (Nov 2026 / 2026年11月) of the window, as the
    language writes it on a chart's axis: the formats are translated strings."""
    if window.period == Period.DAYS:
        return date_format(bucket, pgettext("a day on a chart's axis (date format)", "j M"))
    return date_format(bucket, pgettext("a month on a chart's axis (date format)", "M Y"))


def period_header(window: Window) -> str:
    return _("Day") if window.period == Period.DAYS else _("Month")


def _name(name_ja: str, name_latin: str) -> str:
    return name_ja if in_japanese() else name_latin


def members_panel(members: Sequence[selectors.CompanyMembers]) -> Panel:
    total = sum(m.active + m.inactive for m in members)
    chart = stacked_bar_chart(
        title=_("Members per company"),
        labels=[_name(m.name_ja, m.name_latin) for m in members],
        series=[
            Series(_("Active"), [m.active for m in members]),
            Series(_("Inactive"), [m.inactive for m in members]),
        ],
        label_header=pgettext("a company of the alliance", "Company"),
        horizontal=True,
    )
    return Panel(
        key="members",
        heading=_("Members"),
        headlines=[Headline(_("Member accounts"), figure(total))],
        chart=chart,
    )


def enrollments_panel(window: Window, counts: selectors.EnrollmentCounts) -> Panel:
    chart = line_chart(
        title=_("Enrollments over time"),
        labels=[bucket_label(window, bucket) for bucket in window.buckets],
        series=[
            Series(_("Requested"), counts.requested),
            Series(_("Confirmed"), counts.confirmed),
        ],
        label_header=period_header(window),
    )
    return Panel(
        key="enrollments",
        heading=_("Enrollments"),
        headlines=[
            Headline(_("Requested"), figure(sum(counts.requested))),
            Headline(_("Confirmed"), figure(sum(counts.confirmed))),
        ],
        chart=chart,
    )


def consents_panel(window: Window, activity: selectors.ConsentActivity) -> Panel:
    granted, withdrawn = _("Granted"), _("Withdrawn")
    over_time = stacked_bar_chart(
        title=_("Consents granted and withdrawn"),
        labels=[bucket_label(window, bucket) for bucket in window.buckets],
        series=[Series(granted, activity.granted), Series(withdrawn, activity.withdrawn)],
        label_header=period_header(window),
    )
    purposes = activity.purposes
    per_purpose = stacked_bar_chart(
        title=_("Consents granted and withdrawn per purpose"),
        labels=[p.name_ja if in_japanese() else p.name_en for p in purposes],
        series=[
            Series(granted, [p.granted for p in purposes]),
            Series(withdrawn, [p.withdrawn for p in purposes]),
        ],
        label_header=_("Purpose"),
        horizontal=True,
    )
    return Panel(
        key="consents",
        heading=_("Consents"),
        headlines=[
            Headline(granted, figure(sum(activity.granted))),
            Headline(withdrawn, figure(sum(activity.withdrawn))),
        ],
        chart=over_time,
        note=_("Counted by when the member said so."),
        extra=[per_purpose],
    )


def withdrawals_panel(rows: Sequence[selectors.RecipientWithdrawals]) -> Panel:
    overdue = sum(row.overdue for row in rows)
    chart = stacked_bar_chart(
        title=_("Unacknowledged withdrawals per recipient"),
        labels=[_name(row.name_ja, row.name_latin) for row in rows],
        series=[
            Series(_("Overdue"), [row.overdue for row in rows]),
            Series(_("Not yet due"), [row.unacknowledged - row.overdue for row in rows]),
        ],
        label_header=_("Recipient"),
        horizontal=True,
    )
    return Panel(
        key="withdrawals",
        heading=_("Withdrawal acknowledgements"),
        headlines=[
            Headline(_("Overdue"), figure(overdue), alert=overdue > 0),
            Headline(_("Unacknowledged"), figure(sum(row.unacknowledged for row in rows))),
        ],
        chart=chart,
        note=_("Now, whatever the period."),
    )


def webhooks_panel(outcomes: selectors.WebhookOutcomes) -> Panel:
    chart = ratio_gauge(
        title=_("Webhook success rate"),
        part=outcomes.succeeded,
        whole=outcomes.finished,
        part_label=_("Succeeded"),
        whole_label=_("Finished"),
    )
    return Panel(
        key="webhooks",
        heading=_("Webhook deliveries"),
        headlines=[
            Headline(_("Success rate"), percent(outcomes.succeeded, outcomes.finished)),
            Headline(_("Failed"), figure(outcomes.failed), alert=outcomes.failed > 0),
            Headline(_("Still being tried"), figure(outcomes.pending)),
        ],
        chart=chart,
        note=_("Deliveries created in the period; the rate is of those that finished."),
    )


def requests_panel(due: selectors.RequestsDue) -> Panel:
    soon = _("Due within %(days)s days") % {"days": DUE_SOON_DAYS}
    chart = bar_chart(
        title=_("Open data-subject requests by deadline"),
        labels=[_("Overdue"), soon, _("Due later")],
        values=[due.overdue, due.due_soon, due.later],
        label_header=_("Deadline"),
        value_header=_("Requests"),
    )
    return Panel(
        key="requests",
        heading=_("Data-subject requests"),
        headlines=[
            Headline(_("Overdue"), figure(due.overdue), alert=due.overdue > 0),
            Headline(soon, figure(due.due_soon)),
            Headline(_("Open"), figure(due.overdue + due.due_soon + due.later)),
        ],
        chart=chart,
        note=_("Now, whatever the period."),
    )


def panels(data: Dashboard) -> list[Panel]:
    """Every panel of the dashboard, in the order the page shows them."""
    return [
        members_panel(data.members),
        enrollments_panel(data.window, data.enrollments),
        consents_panel(data.window, data.consents),
        withdrawals_panel(data.withdrawals),
        requests_panel(data.requests),
        webhooks_panel(data.webhooks),
    ]
