"""Give the demo alliance (``seed_demo``) a consent record to look at: a notice in Japanese and
English, grants from part of the host's members to two brands, a few withdrawals, provisions,
an access request, and a chain verification run. Safe to run again: it does nothing once the
demo notice exists. Everyone here is fictional."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consent.models import PrivacyNotice
from consent.services import (
    chains_verify_all,
    consent_grant,
    consent_withdraw,
    data_request_submit,
    notice_publish,
    provision_record,
)
from partners.actors import Actor
from partners.models import MemberAccount, Partner
from partners.services.member_records import open_member

NOTICE_EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)
PURPOSES = ["cross_enrollment", "profile_sharing", "co_marketing_contact", "research_survey"]
DATA_ITEMS = ["name", "name_kana", "email", "prefecture", "age_band"]
TEXTS = {
    "ja": "きらりホームサービスは、ご同意いただいた目的に限り、みどりフィットネスクラブおよび"
    "つばめトラベルに、氏名・メールアドレス・都道府県・年代を提供します。同意はいつでも撤回できます。",
    "en": "Kirari Home Services provides your name, e-mail address, prefecture and age band to "
    "Midori Fitness Club and Tsubame Travel only for the purposes you agree to. You can "
    "withdraw at any time.",
}


class Command(BaseCommand):
    help = "Load demo consents for the demo alliance (run seed_demo first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--share", type=float, default=0.25, help="Members who consent.")

    def handle(self, *args: Any, **options: Any) -> None:
        if PrivacyNotice.objects.filter(version=1).exists():
            self.stdout.write("Demo consents already loaded.")
            return
        host, brands = _demo_partners()
        with transaction.atomic():
            notices = _publish_notices(brands)
        chosen = _consenting_members(host, share=options["share"])
        grants, withdrawals, provisions = _record_consents(chosen, brands, notices)
        # An access request from the first member whose record holds two facts to verify.
        for example in chosen:
            personal = open_member(example, ("email", "birth_date", "phone"))
            identity = {name: value for name, value in personal.items() if value}
            if len(identity) >= 2:
                data_request_submit(
                    member=example,
                    kind="access",
                    identity=identity,
                    received_via=host,
                    actor=Actor.system(),
                )
                break
        run = chains_verify_all()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo consents ready: {grants:,} grants, {withdrawals:,} withdrawals, "
                f"{provisions:,} provisions; {run.chains_checked:,} chains verified."
            )
        )
        self.stdout.write(
            f"  Compliance pages: http://127.0.0.1:8000/compliance/ (log in as reviewer); "
            f"try member {example.member_number} or e-mail {personal['email']}"
        )


def _demo_partners() -> tuple[Partner, list[Partner]]:
    """The host and the two brands its members consent to share with."""
    try:
        host = Partner.objects.get(kind=Partner.Kind.HOST)
        brands = list(
            Partner.objects.filter(slug__in=["midori-fitness", "tsubame-travel"]).order_by("slug")
        )
    except Partner.DoesNotExist:
        raise CommandError("Run seed_demo first.") from None
    return host, brands


def _publish_notices(brands: list[Partner]) -> dict[str, PrivacyNotice]:
    return {
        language: notice_publish(
            version=1,
            language=language,
            text=text,
            purposes=PURPOSES,
            recipients=brands,
            data_items=DATA_ITEMS,
            effective_at=NOTICE_EFFECTIVE,
            actor=Actor.system(),
        )
        for language, text in TEXTS.items()
    }


def _consenting_members(host: Partner, *, share: float) -> list[MemberAccount]:
    """The first ``share`` of the host's active members with an e-mail, by member number."""
    members = list(
        MemberAccount.objects.filter(partner=host, status=MemberAccount.Status.ACTIVE)
        .exclude(email_index=None)
        .order_by("member_number")
    )
    return members[: max(1, int(len(members) * share))]


def _record_consents(
    members: list[MemberAccount], brands: list[Partner], notices: dict[str, PrivacyNotice]
) -> tuple[int, int, int]:
    """Grants to one or both brands, some provisions and withdrawals, one transaction per
    member; return how many of each ``(grants, withdrawals, provisions)``."""
    system = Actor.system()
    rng = random.Random(2026)
    now = timezone.now()
    grants = withdrawals = provisions = 0
    for number, member in enumerate(members):
        with transaction.atomic():
            given = max(
                now - timedelta(days=rng.randint(20, 300)), NOTICE_EFFECTIVE + timedelta(days=1)
            )
            for brand in brands[: 1 + number % 2]:
                for purpose in ("profile_sharing", "co_marketing_contact"):
                    consent_grant(
                        member=member,
                        purpose_code=purpose,
                        recipient=brand,
                        notice=notices["ja" if number % 5 else "en"],
                        channel=["host_portal", "staff_visit", "paper"][number % 3],
                        occurred_at=given,
                        actor=system,
                        expires_at=given + timedelta(days=365) if number % 7 == 0 else None,
                    )
                    grants += 1
            if number % 4 == 0:
                provision_record(
                    member=member,
                    recipient=brands[0],
                    purpose_code="profile_sharing",
                    data_items=["name", "email"],
                    actor=system,
                    at=given + timedelta(days=1),
                )
                provisions += 1
            if number % 9 == 0:
                consent_withdraw(
                    member=member,
                    purpose_code="co_marketing_contact",
                    recipient=brands[0],
                    channel="call_centre",
                    occurred_at=given + timedelta(days=10),
                    actor=system,
                )
                withdrawals += 1
    return grants, withdrawals, provisions
