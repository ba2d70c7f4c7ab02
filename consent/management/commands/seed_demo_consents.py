"""Give the demo alliance (``seed_demo``) a consent record to look at, and the consents the
federation demo (``seed_demo_alliance``) needs.

Two notice versions, each in Japanese and English. Version 1 (the history): grants from part of
the host's members to two brands, a few withdrawals, provisions and an access request. Version
2 (in force): every purpose of the catalogue, every company of the alliance; under it the
first host members consent to everything (some withdraw again), and the people who are members
of the host and of a brand consent on both sides to overlap matching.

Safe to run again, also on a database an older version of this command seeded: each part is
written once (version 1 when its notice is missing, version 2 member by member), so runs
converge. Everyone here is fictional."""

import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consent.models import ConsentEvent, PrivacyNotice, Purpose
from consent.services import (
    chains_verify_all,
    consent_grant,
    consent_withdraw,
    data_request_submit,
    notice_publish,
    provision_record,
)
from partners.actors import Actor
from partners.models import MemberAccount, Partner, Person
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

# Version 2, in force: every purpose of the catalogue, for every company of the alliance.
NOTICE_V2_AGE = timedelta(days=7)  # in effect from a week before the run that publishes it
DATA_ITEMS_V2 = [*DATA_ITEMS, "phone", "postal_code", "kind"]
TEXTS_V2 = {
    "ja": "きらりホームサービス、ほしぞら食品、みどりフィットネスクラブおよびつばめトラベルは、"
    "相互入会、会員情報の提供、共同のご案内、コイン交換、送客の計測、サンプルの発送、調査および"
    "会員の重なりの件数確認のうち、ご同意いただいた目的に限り、氏名・メールアドレス・電話番号・"
    "郵便番号・都道府県・年代・会員種別を互いに提供します。同意はいつでも撤回できます。",
    "en": "Kirari Home Services, Hoshizora Foods, Midori Fitness Club and Tsubame Travel provide "
    "one another your name, e-mail address, phone number, postal code, prefecture, age band "
    "and member kind only for the purposes you agree to (cross-enrollment, profile sharing, "
    "joint offers, coin exchange, referral tracking, sample shipment, research surveys and "
    "counting shared members). You can withdraw at any time.",
}
# The host members (first by number) who consent to everything under version 2.
FULL_CONSENT_MEMBERS = 40
# Brand members (first by number) who consent to join the host's program.
BRAND_ENROLLING_MEMBERS = 10


class Command(BaseCommand):
    help = "Load demo consents for the demo alliance (run seed_demo first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--share", type=float, default=0.25, help="Members who consent.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, brands = _demo_partners()
        if not PrivacyNotice.objects.filter(version=1).exists():
            self._history(host, brands, share=options["share"])
        notices = _notices_v2(host)
        written = _record_alliance_consents(host, notices)
        if written:
            run = chains_verify_all()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Alliance consents ready (notice version 2): {written:,} members consented; "
                    f"{run.chains_checked:,} chains verified."
                )
            )
        else:
            self.stdout.write("Demo consents already loaded.")

    def _history(self, host: Partner, brands: list[Partner], *, share: float) -> None:
        """Version 1 and what members did under it."""
        with transaction.atomic():
            notices = _publish_notices(brands)
        chosen = _consenting_members(host, share=share)
        with transaction.atomic():  # one disk flush for the history, not one per member
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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo consents ready: {grants:,} grants, {withdrawals:,} withdrawals, "
                f"{provisions:,} provisions."
            )
        )
        self.stdout.write(
            f"  Compliance pages: http://127.0.0.1:8000/compliance/ (log in as reviewer); "
            f"try member {example.member_number} or e-mail {personal['email']}"
        )


def _demo_partners() -> tuple[Partner, list[Partner]]:
    """The host and the two brands its members consented to share with under version 1."""
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


# --- Version 2: the notice in force, and the consents the federation demo needs ----------------


def _notices_v2(host: Partner) -> dict[str, PrivacyNotice]:
    """Version 2 in both languages, published unless it already is."""
    existing = {notice.language: notice for notice in PrivacyNotice.objects.filter(version=2)}
    if len(existing) == len(TEXTS_V2):
        return existing
    companies = list(Partner.objects.filter(status=Partner.Status.ACTIVE))
    purposes = list(Purpose.objects.filter(active=True).values_list("code", flat=True))
    effective_at = timezone.now().replace(microsecond=0) - NOTICE_V2_AGE
    with transaction.atomic():
        for language, text in TEXTS_V2.items():
            if language not in existing:
                existing[language] = notice_publish(
                    version=2,
                    language=language,
                    text=text,
                    purposes=purposes,
                    recipients=companies,
                    data_items=DATA_ITEMS_V2,
                    effective_at=effective_at,
                    actor=Actor.system(),
                )
    return existing


def _record_alliance_consents(host: Partner, notices: dict[str, PrivacyNotice]) -> int:
    """Consents under version 2, skipping members who already gave theirs under it (so an
    interrupted run is finished by the next). Returns how many members consented now."""
    brands = {p.slug: p for p in Partner.objects.filter(kind=Partner.Kind.BRAND)}
    plans = _full_consent_plans(host, brands) + _overlap_plans(host, brands)
    plans += _brand_enrollment_plans(host, brands)
    done = set(ConsentEvent.objects.filter(notice__version=2).values_list("member_id", flat=True))
    todo = [plan for plan in _by_member(plans) if plan[0].pk not in done]
    at = notices["ja"].effective_at + timedelta(hours=1)
    # A few dozen members per transaction: each member's events are whole either way, and a
    # demo on SQLite loads in seconds rather than waiting for a disk flush per member.
    for start in range(0, len(todo), 50):
        with transaction.atomic():
            for member, grants, withdrawals in todo[start : start + 50]:
                _consent(member, grants, withdrawals, notices, at)
    return len(todo)


def _by_member(plans: list["Plan"]) -> list["Plan"]:
    """One plan per member (a member may be in several), grants and withdrawals in order."""
    merged: dict[Any, Plan] = {}
    for member, grants, withdrawals in plans:
        _, known_grants, known_withdrawals = merged.setdefault(member.pk, (member, [], []))
        known_grants += [grant for grant in grants if grant not in known_grants]
        known_withdrawals += [w for w in withdrawals if w not in known_withdrawals]
    return list(merged.values())


def _consent(
    member: MemberAccount,
    grants: list[tuple[str, Partner]],
    withdrawals: list[tuple[str, Partner]],
    notices: dict[str, PrivacyNotice],
    at: datetime,
) -> None:
    for purpose, recipient in grants:
        consent_grant(
            member=member,
            purpose_code=purpose,
            recipient=recipient,
            notice=notices["en" if member.member_number.endswith("5") else "ja"],
            channel=_channel(member),
            occurred_at=at,
            actor=Actor.system(),
        )
    for purpose, recipient in withdrawals:
        consent_withdraw(
            member=member,
            purpose_code=purpose,
            recipient=recipient,
            channel=_channel(member),
            occurred_at=at + timedelta(days=2),
            actor=Actor.system(),
        )


Plan = tuple[MemberAccount, list[tuple[str, Partner]], list[tuple[str, Partner]]]


def _channel(member: MemberAccount) -> str:
    return "host_portal" if member.partner.kind == Partner.Kind.HOST else "partner_app"


def _full_consent_plans(host: Partner, brands: dict[str, Partner]) -> list[Plan]:
    """The first host members consent to every purpose with the brands: enrollment and
    profile sharing with each, overlap with the brands that hold members, and one brand each
    for the coin, referral, sampling, research and contact purposes. Some withdraw again."""
    members = _consenting_members(host, share=1.0)[:FULL_CONSENT_MEMBERS]
    ordered = [brands[slug] for slug in sorted(brands)]
    holders = [brand for brand in ordered if brand.holds_customer_data]
    plans: list[Plan] = []
    for number, member in enumerate(members):
        grants = [(purpose, brand) for brand in ordered for purpose in _ENROLLING]
        grants += [("overlap_matching", brand) for brand in holders]
        one = ordered[number % len(ordered)]
        grants += [(purpose, one) for purpose in _ONE_BRAND]
        withdrawals = []
        if number % 7 == 6:
            withdrawals.append(("profile_sharing", ordered[-1]))
        if number % 5 == 4:
            withdrawals.append(("research_survey", one))
        plans.append((member, grants, withdrawals))
    return plans


_ENROLLING = ("cross_enrollment", "profile_sharing")
_ONE_BRAND = (
    "co_marketing_contact",
    "coin_exchange",
    "referral_tracking",
    "sampling_shipment",
    "research_survey",
)


def _overlap_plans(host: Partner, brands: dict[str, Partner]) -> list[Plan]:
    """Nine in ten of the people who are members of the host and of a brand consent, on both
    sides, to counting the overlap. Only they are asked: the others could not be counted
    anyway, and a demo loads in seconds."""
    plans: list[Plan] = []
    for brand in brands.values():
        shared = Person.objects.filter(accounts__partner=host).filter(accounts__partner=brand)
        accounts = (
            MemberAccount.objects.filter(
                person__in=shared, partner__in=(host, brand), status=MemberAccount.Status.ACTIVE
            )
            .select_related("partner")
            .order_by("partner__slug", "member_number")
        )
        for account in accounts:
            if zlib.crc32(account.member_number.encode()) % 10 == 9:
                continue
            other = brand if account.partner_id == host.pk else host
            plans.append((account, [("overlap_matching", other)], []))
    return plans


def _brand_enrollment_plans(host: Partner, brands: dict[str, Partner]) -> list[Plan]:
    """The first members of each brand that holds members consent to join the host's program."""
    plans: list[Plan] = []
    for brand in brands.values():
        members = MemberAccount.objects.filter(
            partner=brand, status=MemberAccount.Status.ACTIVE
        ).order_by("member_number")[:BRAND_ENROLLING_MEMBERS]
        plans += [(member, [(p, host) for p in _ENROLLING], []) for member in members]
    return plans
