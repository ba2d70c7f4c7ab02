"""Load the fictional demo alliance. Safe to run again: it converges on the same data.

Every company and person here is invented.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from partners import services
from partners.actors import Actor
from partners.models import ApiKey, ApiScope, Partner, PartnerContact, StaffRole

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


class Command(BaseCommand):
    help = "Create (or refresh) the fictional demo alliance, staff log-ins and demo API keys."

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system()
        user_model = get_user_model()
        logins: list[tuple[str, str]] = []
        keys: list[tuple[str, str]] = []

        def user(username: str, role: StaffRole.Role, partner: Partner | None) -> None:
            account, _ = user_model.objects.get_or_create(
                username=username, defaults={"email": f"{username}@sanpo.example"}
            )
            account.set_password(DEMO_PASSWORD)
            account.save()
            current = StaffRole.objects.filter(user=account).first()
            if (
                current is None
                or current.role != role
                or current.partner_id != (partner and partner.pk)
            ):
                services.staff_role_set(user=account, role=role, partner=partner, actor=actor)
            logins.append((username, role.label + (f" at {partner.name_latin}" if partner else "")))

        with transaction.atomic():
            user("manager", StaffRole.Role.ALLIANCE_MANAGER, None)
            user("reviewer", StaffRole.Role.COMPLIANCE_REVIEWER, None)
            for spec in PARTNERS:
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
                user(f"{partner.slug}-admin", StaffRole.Role.PARTNER_ADMIN, partner)
                user(f"{partner.slug}-analyst", StaffRole.Role.PARTNER_ANALYST, partner)
                # One live demo key per partner: the previous run's key is revoked, because a
                # key's plaintext cannot be shown twice.
                for old in ApiKey.objects.filter(
                    partner=partner, name=DEMO_KEY_NAME, revoked_at__isnull=True
                ):
                    services.api_key_revoke(api_key=old, actor=actor)
                issued = services.api_key_issue(
                    partner=partner,
                    name=DEMO_KEY_NAME,
                    scopes=[ApiScope.READ, ApiScope.WRITE, ApiScope.ADMIN],
                    actor=Actor(user=user_model.objects.get(username="manager")),
                )
                keys.append((partner.name_latin, issued.plaintext))

        self.stdout.write(self.style.SUCCESS("Demo alliance ready (all names are fictional)."))
        self.stdout.write("\n  Admin:     http://127.0.0.1:8000/admin/")
        self.stdout.write("  API docs:  http://127.0.0.1:8000/api/docs/")
        self.stdout.write("  Health:    http://127.0.0.1:8000/health/")
        self.stdout.write(f"\n  Log-ins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins:
            self.stdout.write(f"    {username:<24} {role}")
        self.stdout.write("\n  Demo API keys (read, write, admin scopes):")
        for name, key in keys:
            self.stdout.write(f"    {name:<24} {key}")
        self.stdout.write("")
