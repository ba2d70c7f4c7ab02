"""Load the fictional demo alliance. Safe to run again: it converges on the same data.

Every company and person here is invented.
"""

import io
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from partners import services
from partners.actors import Actor
from partners.keys import ParsedKey, derive_key
from partners.models import ApiKey, ApiScope, MemberImport, Partner, PartnerContact, StaffRole
from partners.synthetic import write_csv

DEMO_PASSWORD = "sanpo-demo-2026"  # noqa: S105  (printed for the demo; fictional users)
DEMO_KEY_NAME = "Demo key"

PARTNERS: list[dict[str, Any]] = [
    {
        "slug": "kirari",
        "name_ja": "きらりホームサービス株式会社",
        "name_latin": "Kirari Home Services",
        "kind": Partner.Kind.HOST,
        "holds_customer_data": True,
        "contact": ("Haruka Minase", "alliance@kirari.example"),
    },
    {
        "slug": "hoshizora",
        "name_ja": "ほしぞら食品株式会社",
        "name_latin": "Hoshizora Foods",
        "kind": Partner.Kind.BRAND,
        # A mass-market brand sold through convenience stores: no member base of its own.
        "holds_customer_data": False,
        "contact": ("Kenta Arisugawa", "partners@hoshizora.example"),
    },
    {
        "slug": "midori-fitness",
        "name_ja": "みどりフィットネスクラブ",
        "name_latin": "Midori Fitness Club",
        "kind": Partner.Kind.BRAND,
        "holds_customer_data": True,
        "contact": ("Sayaka Kotobuki", "biz@midori-fitness.example"),
    },
    {
        "slug": "tsubame-travel",
        "name_ja": "つばめトラベル株式会社",
        "name_latin": "Tsubame Travel",
        "kind": Partner.Kind.BRAND,
        "holds_customer_data": True,
        "contact": ("Daichi Hoshimiya", "alliance@tsubame-travel.example"),
    },
]


# Synthetic member bases (fictional people): the host's households and businesses, and two
# partner bases that share about 30% of their people with it, spelt differently, so matching
# and overlap have something to find. (slug, seed, prefix, share of the --members size)
MEMBER_BASES: list[tuple[str, int, str, float]] = [
    ("kirari", 1, "K", 1.0),
    ("midori-fitness", 2, "MF", 0.3),
    ("tsubame-travel", 3, "TT", 0.2),
]


class Command(BaseCommand):
    help = "Create (or refresh) the fictional demo alliance, staff log-ins and demo API keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--members",
            type=int,
            default=2000,
            help="Size of the host's synthetic member base (partners get a share of it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            logins, keys = _alliance()
        bases = [self._load_members(options["members"], *base) for base in MEMBER_BASES]

        self.stdout.write(self.style.SUCCESS("Demo alliance ready (all names are fictional)."))
        for slug, count in bases:
            self.stdout.write(f"  {slug:<24} {count:,} synthetic member accounts")
        self.stdout.write("\n  Admin:     http://127.0.0.1:8000/admin/")
        self.stdout.write("  Partners:  http://127.0.0.1:8000/partner-console/ (partner staff)")
        self.stdout.write("  API docs:  http://127.0.0.1:8000/api/docs/")
        self.stdout.write("  Health:    http://127.0.0.1:8000/health/")
        self.stdout.write(f"\n  Log-ins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins:
            self.stdout.write(f"    {username:<24} {role}")
        self.stdout.write("\n  Demo API keys (read, write, admin scopes):")
        for name, key in keys:
            self.stdout.write(f"    {name:<24} {key}")
        self.stdout.write("")

    def _load_members(
        self, size: int, slug: str, seed: int, prefix: str, share: float
    ) -> tuple[str, int]:
        partner = Partner.objects.get(slug=slug)
        source = io.BytesIO()
        overlap = None if seed == 1 else 1
        write_csv(source, count=int(size * share), seed=seed, prefix=prefix, overlap_with=overlap)
        source.seek(0)
        job = services.member_import_create(
            partner=partner,
            upload=source,
            original_name=f"{slug}-demo-members.csv",
            actor=Actor.system(),
            enqueue=False,
        )
        job = services.member_import_run(job_id=job.id)
        if job.status != MemberImport.Status.COMPLETED:
            raise RuntimeError(f"Demo member import for {slug} ended {job.status}: {job.failure}")
        return slug, partner.members.count()


def _alliance() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The partners, staff log-ins and demo keys: ``(username, role)`` and ``(partner, key)``."""
    actor = Actor.system()
    logins = [
        _login("manager", StaffRole.Role.ALLIANCE_MANAGER, None, actor=actor),
        _login("reviewer", StaffRole.Role.COMPLIANCE_REVIEWER, None, actor=actor),
    ]
    keys = []
    for spec in PARTNERS:
        partner = _partner(spec, actor=actor)
        logins.append(
            _login(f"{partner.slug}-admin", StaffRole.Role.PARTNER_ADMIN, partner, actor=actor)
        )
        logins.append(
            _login(f"{partner.slug}-analyst", StaffRole.Role.PARTNER_ANALYST, partner, actor=actor)
        )
        keys.append((partner.name_latin, _demo_key(partner, actor=actor)))
    return logins, keys


def _login(
    username: str, role: StaffRole.Role, partner: Partner | None, *, actor: Actor
) -> tuple[str, str]:
    account, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@sanpo.example"}
    )
    account.set_password(DEMO_PASSWORD)
    account.save()
    current = StaffRole.objects.filter(user=account).first()
    if current is None or current.role != role or current.partner_id != (partner and partner.pk):
        services.staff_role_set(user=account, role=role, partner=partner, actor=actor)
    return username, role.label + (f" at {partner.name_latin}" if partner else "")


def _partner(spec: dict[str, Any], *, actor: Actor) -> Partner:
    partner = Partner.objects.filter(slug=spec["slug"]).first()
    if partner is None:
        partner = services.partner_create(
            slug=spec["slug"],
            name_ja=spec["name_ja"],
            name_latin=spec["name_latin"],
            kind=spec["kind"],
            holds_customer_data=spec["holds_customer_data"],
            actor=actor,
        )
    if not partner.contacts.exists():
        name, email = spec["contact"]
        PartnerContact.objects.create(
            partner=partner, role=PartnerContact.Role.BUSINESS, name=name, email=email
        )
    return partner


def _demo_key(partner: Partner, *, actor: Actor) -> str:
    """The partner's demo key. On a development machine (SANPO_ALLOW_INSECURE_DEFAULTS) it is
    derived from SECRET_KEY and the partner's slug, so every run, and every fresh demo on the
    development SECRET_KEY, prints the same key (the README's); it is issued once and left
    alone after. Elsewhere, or once that key was revoked or expired, a key's plaintext cannot
    be shown twice: the run issues a random key, revokes the previous demo keys, and says so."""
    if settings.ALLOW_INSECURE_DEFAULTS:
        derived = derive_key(settings.SECRET_KEY.encode(), f"sanpo-demo-key:{partner.slug}")
        existing = ApiKey.objects.filter(lookup=derived.lookup).first()
        if existing is None:
            return _issue(partner, derived).plaintext
        if existing.partner_id == partner.pk and not (
            existing.is_revoked() or existing.is_expired()
        ):
            return derived.plaintext
    for old in ApiKey.objects.filter(partner=partner, name=DEMO_KEY_NAME, revoked_at__isnull=True):
        services.api_key_revoke(api_key=old, actor=actor)
    return f"{_issue(partner, None).plaintext}  (new; earlier demo keys are revoked)"


def _issue(partner: Partner, key: ParsedKey | None) -> services.IssuedKey:
    return services.api_key_issue(
        partner=partner,
        name=DEMO_KEY_NAME,
        scopes=[ApiScope.READ, ApiScope.WRITE, ApiScope.ADMIN],
        actor=Actor(user=get_user_model().objects.get(username="manager")),
        key=key,
    )
