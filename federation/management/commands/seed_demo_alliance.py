"""Give the demo alliance (``seed_demo``, ``seed_demo_consents``) what the companies do
together: agreements in force (one amended to add a company, one suspended), overlap
visibility, enrollments in every state and a campaign, a sampling campaign run to its results,
coins earned, spent and refunded, and webhook endpoints on the loopback receiver
(``demo_webhook_receiver``), so the delivery log shows real attempts.

Everything goes through the federation and partners services, as a person in the admin or a
partner's system would do it. Safe to run again: each step looks for what it would make first,
so runs converge. Every company and person here is fictional.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consent.errors import ConsentErrorCode
from consent.selectors import notice_in_force
from federation import services
from federation.enrollment.models import Enrollment, EnrollmentBatch
from federation.management.commands import _demo_terms as demo
from federation.management.commands._demo_campaigns import seed_campaign
from federation.management.commands._demo_coins import seed_coins
from federation.management.commands._demo_referrals import seed_referrals, seed_settlement
from federation.management.commands._demo_settlement import seed_issued_settlement
from federation.metrics.services import metrics_refresh_recent
from federation.models import Agreement, AgreementVersion
from federation.overlap.models import OverlapVisibility
from partners import services as partner_services
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberAccount, Partner, WebhookEndpoint
from partners.webhook_events import EVENT_TYPES

SYSTEM = Actor.system()
RECEIVER = "http://127.0.0.1:8001"
# The README's worked example enrolls this host member with Midori Fitness Club, so the demo
# leaves it unenrolled.
STORY_MEMBER = "K00000002"


class Command(BaseCommand):
    help = "Load the demo alliance's agreements, enrollments and webhooks (after seed_demo)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--receiver",
            default=RECEIVER,
            help="Base URL of the demo webhook receiver; each company gets <receiver>/<slug>.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        partners = {p.slug: p for p in Partner.objects.all()}
        if not set(demo.CONTACTS) <= set(partners) or notice_in_force() is None:
            raise CommandError("Run seed_demo and seed_demo_consents first.")
        endpoints = _webhook_endpoints(partners, options["receiver"].rstrip("/"))
        agreements = [_agreement(spec, partners) for spec in demo.AGREEMENTS]
        for owner, viewer in demo.OVERLAP_VISIBILITY:
            _show_counts(partners[owner], partners[viewer])
        for source, target, states in demo.ENROLLMENTS:
            _enrollments(partners[source], partners[target], states)
        _campaign(partners)
        sampling = seed_campaign(partners["kirari"], partners["hoshizora"])
        coins = seed_coins(partners)
        conversions = seed_referrals(partners["kirari"], partners["midori-fitness"])
        issued = seed_issued_settlement(partners)
        period = seed_settlement(partners["kirari"])
        metrics_refresh_recent()  # the activity rollup the metrics answer from

        self.stdout.write(self.style.SUCCESS("Demo federation ready (all fictional)."))
        for agreement in agreements:
            versions = agreement.versions.count()
            self.stdout.write(f"  {agreement.status:<10} v{versions} {agreement.title}")
        counts = {status: 0 for status in Enrollment.Status.values}
        for status in Enrollment.objects.values_list("status", flat=True):
            counts[status] += 1
        self.stdout.write("  Enrollments: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        self.stdout.write(f"  Webhooks:    {endpoints} endpoints at {options['receiver']}/<slug>")
        self.stdout.write(f"  Coins:       {coins} coin transactions in the ledger")
        self.stdout.write(f"  Referrals:   {conversions} conversions through Kirari's flyers")
        if issued is not None:
            days = f"{issued.starts_on} to {issued.ends_on}"
            self.stdout.write(f"  Settlement:  {days}, {issued.state} (statements signed)")
        answered = sampling.answers.count()
        self.stdout.write(
            f"  Sampling:    {sampling.name_en}, {sampling.state}: "
            f"{sampling.selected} members drawn, {answered} answers"
        )
        if period is not None:
            days = f"{period.starts_on} to {period.ends_on}"
            self.stdout.write(f"  Settlement:  {days}, {period.state} (computed from the ledger)")


def _webhook_endpoints(partners: dict[str, Partner], receiver: str) -> int:
    """Each company listens for every event at ``<receiver>/<slug>``."""
    for slug, partner in partners.items():
        url = f"{receiver}/{slug}"
        if not WebhookEndpoint.objects.filter(partner=partner, url=url).exists():
            partner_services.webhook_endpoint_create(
                partner=partner,
                url=url,
                events=sorted(set(EVENT_TYPES) - {"webhook.ping"}),
                description="Demo receiver (manage.py demo_webhook_receiver)",
                actor=SYSTEM,
            )
    return WebhookEndpoint.objects.filter(url__startswith=f"{receiver}/").count()


def _agreement(spec: dict[str, Any], partners: dict[str, Partner]) -> Agreement:
    """The agreement titled ``spec["title"]``, taken as far as the spec says: made and signed
    by every party, amended and the amendment signed, suspended."""
    agreement = Agreement.objects.filter(title=spec["title"]).first()
    today = timezone.localdate()
    if agreement is None:
        agreement = services.agreement_create(
            title=spec["title"],
            host=partners["kirari"],
            actor=SYSTEM,
            **_draft(spec, partners, today, summary="First version."),
        )
        _propose_and_sign(agreement.versions.get(number=1), partners)
    amendment = spec.get("amendment")
    if amendment and not agreement.versions.filter(number__gte=2).exists():
        version = services.version_draft(
            agreement=agreement,
            actor=SYSTEM,
            **_draft(amendment, partners, today, summary=amendment["summary"]),
        )
        _propose_and_sign(version, partners)
    agreement.refresh_from_db()
    if spec.get("suspend") and agreement.status == Agreement.Status.ACTIVE:
        agreement = services.agreement_suspend(
            agreement=agreement, reason=spec["suspend"], actor=SYSTEM
        )
    return agreement


def _draft(spec: dict[str, Any], partners: dict[str, Partner], today: Any, *, summary: str) -> Any:
    return {
        "parties": [
            services.PartyInput(partners[slug], *demo.CONTACTS[slug]) for slug in spec["parties"]
        ],
        "terms": spec["terms"],
        "effective_from": today,
        "valid_until": today + timedelta(days=365),
        "summary": summary,
    }


def _propose_and_sign(version: AgreementVersion, partners: dict[str, Partner]) -> None:
    version = services.version_propose(version=version, actor=SYSTEM)
    for party in version.parties.select_related("partner"):
        version = services.version_sign(
            version=version,
            partner=party.partner,
            signed_by=demo.SIGNATORIES[party.partner.slug],
            actor=SYSTEM,
        )


def _show_counts(owner: Partner, viewer: Partner) -> None:
    level = OverlapVisibility.Level.COUNTS
    if not OverlapVisibility.objects.filter(owner=owner, viewer=viewer, level=level).exists():
        services.overlap_visibility_set(owner=owner, viewer=viewer, level=level, actor=SYSTEM)


def _candidates(source: Partner, target: Partner) -> list[MemberAccount]:
    """The source's active members (by number) not enrolled with the target before, and not
    the README's."""
    enrolled = Enrollment.objects.filter(target=target).values("member_id")
    return list(
        MemberAccount.objects.filter(partner=source, status=MemberAccount.Status.ACTIVE)
        .exclude(pk__in=enrolled)
        .exclude(member_number=STORY_MEMBER)
        .order_by("member_number")[:200]
    )


def _enrollments(source: Partner, target: Partner, states: list[str]) -> None:
    """The first members who qualify enroll with ``target`` and go to ``states``, once: a
    pair that has enrollments already is left as it is."""
    if Enrollment.objects.filter(source=source, target=target).exists():
        return
    wanted = iter(states)
    state = next(wanted, None)
    for member in _candidates(source, target):
        if state is None:
            return
        try:
            enrollment = services.enrollment_request(
                member=member, target=target, fields=None, actor=SYSTEM
            )
        except ApplicationError as refused:
            if refused.code != ConsentErrorCode.CONSENT_REQUIRED:
                raise
            continue  # no consent in force (never given, or withdrawn): not this member
        if state == "confirmed":
            number = f"{target.slug[:2].upper()}-LINK-{member.member_number}"
            services.enrollment_confirm(
                enrollment=enrollment, target_member_number=number, actor=SYSTEM
            )
        elif state == "ended":
            services.enrollment_end(
                enrollment=enrollment, reason="The member left the program.", actor=SYSTEM
            )
        state = next(wanted, None)


def _campaign(partners: dict[str, Partner]) -> None:
    """One campaign, run to the end: the host's next members with the batch's target."""
    source, target, size = (
        partners[demo.BATCH[0]],
        partners[demo.BATCH[1]],
        demo.BATCH[2],
    )
    if EnrollmentBatch.objects.filter(source=source, target=target).exists():
        return
    numbers = [member.member_number for member in _candidates(source, target)[:size]]
    if not numbers:
        return
    batch = services.enrollment_batch_start(
        source=source, target=target, member_numbers=numbers, fields=None, actor=SYSTEM
    )
    batch.refresh_from_db()
    if batch.status in (EnrollmentBatch.Status.QUEUED, EnrollmentBatch.Status.RUNNING):
        services.enrollment_batch_run(batch=batch)  # with a broker, a worker may not run yet
