"""Referrals: offers, their links and clicks, conversions and fees (federation.referrals)."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0008_settlement"),
        ("partners", "0010_member_import_language"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferralClick",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="clicked at"
                    ),
                ),
                ("fingerprint", models.CharField(max_length=16, verbose_name="fingerprint")),
            ],
            options={
                "verbose_name": "referral click",
                "verbose_name_plural": "referral clicks",
            },
        ),
        migrations.CreateModel(
            name="ReferralLink",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=64, unique=True, verbose_name="token")),
                ("code", models.CharField(max_length=16, unique=True, verbose_name="code")),
                ("campaign", models.CharField(blank=True, max_length=100, verbose_name="campaign")),
                ("channel", models.CharField(blank=True, max_length=100, verbose_name="channel")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.memberaccount",
                        verbose_name="referring member",
                    ),
                ),
            ],
            options={
                "verbose_name": "referral link",
                "verbose_name_plural": "referral links",
            },
        ),
        migrations.CreateModel(
            name="ReferralConversion",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("lead", "Lead"), ("sale", "Sale")],
                        max_length=8,
                        verbose_name="kind",
                    ),
                ),
                ("order_id", models.CharField(max_length=100, verbose_name="order id")),
                (
                    "amount_yen",
                    models.DecimalField(
                        decimal_places=0, max_digits=14, verbose_name="amount (yen)"
                    ),
                ),
                ("occurred_at", models.DateTimeField(verbose_name="occurred at")),
                (
                    "recorded_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="recorded at"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("recorded", "Recorded"),
                            ("flagged", "Flagged for review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("refunded", "Refunded"),
                        ],
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("flags", models.JSONField(blank=True, default=list, verbose_name="flags")),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reviewed at"),
                ),
                (
                    "reviewed_by",
                    models.CharField(blank=True, max_length=200, verbose_name="reviewed by"),
                ),
                (
                    "review_reason",
                    models.CharField(blank=True, max_length=300, verbose_name="review reason"),
                ),
                (
                    "refunded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="refunded at"),
                ),
                (
                    "click",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="federation.referralclick",
                        verbose_name="click",
                    ),
                ),
                (
                    "destination",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                        verbose_name="destination",
                    ),
                ),
                (
                    "duplicate_of",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="federation.referralconversion",
                        verbose_name="duplicate of",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.memberaccount",
                        verbose_name="member",
                    ),
                ),
                (
                    "link",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="federation.referrallink",
                        verbose_name="link",
                    ),
                ),
            ],
            options={
                "verbose_name": "referral conversion",
                "verbose_name_plural": "referral conversions",
            },
        ),
        migrations.AddField(
            model_name="referralclick",
            name="link",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="clicks",
                to="federation.referrallink",
                verbose_name="link",
            ),
        ),
        migrations.CreateModel(
            name="ReferralOffer",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("title_ja", models.CharField(max_length=200, verbose_name="title (Japanese)")),
                ("title_en", models.CharField(max_length=200, verbose_name="title (English)")),
                (
                    "description_ja",
                    models.TextField(blank=True, verbose_name="description (Japanese)"),
                ),
                (
                    "description_en",
                    models.TextField(blank=True, verbose_name="description (English)"),
                ),
                ("landing_url", models.URLField(max_length=500, verbose_name="landing URL")),
                (
                    "lead_fee_yen",
                    models.DecimalField(
                        blank=True,
                        decimal_places=0,
                        max_digits=12,
                        null=True,
                        verbose_name="fee per lead (yen)",
                    ),
                ),
                (
                    "sale_fee_yen",
                    models.DecimalField(
                        blank=True,
                        decimal_places=0,
                        max_digits=12,
                        null=True,
                        verbose_name="fee per sale (yen)",
                    ),
                ),
                (
                    "sale_fee_percent",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=7,
                        null=True,
                        verbose_name="fee per sale (percent)",
                    ),
                ),
                (
                    "attribution_days",
                    models.PositiveIntegerField(verbose_name="attribution window (days)"),
                ),
                ("valid_from", models.DateField(verbose_name="valid from")),
                ("valid_until", models.DateField(verbose_name="valid until")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "agreement",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="federation.agreement",
                        verbose_name="agreement",
                    ),
                ),
                (
                    "destination",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                        verbose_name="destination",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                        verbose_name="source",
                    ),
                ),
            ],
            options={
                "verbose_name": "referral offer",
                "verbose_name_plural": "referral offers",
            },
        ),
        migrations.AddField(
            model_name="referrallink",
            name="offer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="links",
                to="federation.referraloffer",
                verbose_name="offer",
            ),
        ),
        migrations.CreateModel(
            name="ReferralFee",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("fee", "Fee"), ("clawback", "Clawback")],
                        default="fee",
                        max_length=8,
                        verbose_name="kind",
                    ),
                ),
                (
                    "amount_yen",
                    models.DecimalField(
                        decimal_places=0, max_digits=14, verbose_name="amount (yen)"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("locked", "Locked"),
                            ("settled", "Settled"),
                            ("reversed", "Reversed"),
                        ],
                        max_length=8,
                        verbose_name="state",
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="reason")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("lock_after", models.DateTimeField(verbose_name="locks after")),
                (
                    "locked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="locked at"),
                ),
                (
                    "settled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="settled at"),
                ),
                (
                    "settlement_reference",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="settlement reference"
                    ),
                ),
                (
                    "reversed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reversed at"),
                ),
                (
                    "conversion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fees",
                        to="federation.referralconversion",
                        verbose_name="conversion",
                    ),
                ),
                (
                    "destination",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                        verbose_name="destination",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                        verbose_name="source",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="federation.referraloffer",
                        verbose_name="offer",
                    ),
                ),
            ],
            options={
                "verbose_name": "referral fee",
                "verbose_name_plural": "referral fees",
            },
        ),
        migrations.AddField(
            model_name="referralconversion",
            name="offer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="federation.referraloffer",
                verbose_name="offer",
            ),
        ),
        migrations.AddField(
            model_name="referralclick",
            name="offer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="federation.referraloffer",
                verbose_name="offer",
            ),
        ),
        migrations.AddIndex(
            model_name="referraloffer",
            index=models.Index(fields=["source", "-id"], name="referrals_offer_source"),
        ),
        migrations.AddIndex(
            model_name="referraloffer",
            index=models.Index(fields=["destination", "-id"], name="referrals_offer_destination"),
        ),
        migrations.AddConstraint(
            model_name="referraloffer",
            constraint=models.CheckConstraint(
                condition=models.Q(("source", models.F("destination")), _negated=True),
                name="referrals_offer_two_companies",
            ),
        ),
        migrations.AddConstraint(
            model_name="referraloffer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("sale_fee_yen__isnull", True),
                    ("sale_fee_percent__isnull", True),
                    _connector="OR",
                ),
                name="referrals_offer_one_sale_fee",
            ),
        ),
        migrations.AddConstraint(
            model_name="referraloffer",
            constraint=models.CheckConstraint(
                condition=models.Q(("valid_until__gte", models.F("valid_from"))),
                name="referrals_offer_valid_dates",
            ),
        ),
        migrations.AddConstraint(
            model_name="referrallink",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("member__isnull", False),
                    models.Q(("campaign", ""), _negated=True),
                    _connector="OR",
                ),
                name="referrals_link_member_or_campaign",
            ),
        ),
        migrations.AddIndex(
            model_name="referralfee",
            index=models.Index(fields=["state", "lock_after"], name="referrals_fee_due"),
        ),
        migrations.AddIndex(
            model_name="referralfee",
            index=models.Index(fields=["state", "locked_at"], name="referrals_fee_locked"),
        ),
        migrations.AddConstraint(
            model_name="referralfee",
            constraint=models.UniqueConstraint(
                fields=("conversion", "kind"), name="referrals_fee_one_per_kind"
            ),
        ),
        migrations.AddConstraint(
            model_name="referralfee",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("amount_yen__gte", 0), ("kind", "fee")),
                    models.Q(("amount_yen__lte", 0), ("kind", "clawback")),
                    _connector="OR",
                ),
                name="referrals_fee_sign",
            ),
        ),
        migrations.AddIndex(
            model_name="referralconversion",
            index=models.Index(fields=["offer", "occurred_at"], name="referrals_conv_offer_at"),
        ),
        migrations.AddIndex(
            model_name="referralconversion",
            index=models.Index(fields=["link", "occurred_at"], name="referrals_conv_link_at"),
        ),
        migrations.AddIndex(
            model_name="referralconversion",
            index=models.Index(fields=["state", "id"], name="referrals_conv_state"),
        ),
        migrations.AddConstraint(
            model_name="referralconversion",
            constraint=models.UniqueConstraint(
                fields=("destination", "order_id"), name="referrals_conversion_order_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="referralconversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("duplicate_of__isnull", True)),
                fields=("offer", "member", "kind"),
                name="referrals_conversion_once_per_member",
            ),
        ),
        migrations.AddConstraint(
            model_name="referralconversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_yen__gte", 0)),
                name="referrals_conversion_amount_nonnegative",
            ),
        ),
        migrations.AddIndex(
            model_name="referralclick",
            index=models.Index(fields=["link", "at"], name="referrals_click_link_at"),
        ),
        migrations.AddIndex(
            model_name="referralclick",
            index=models.Index(fields=["offer", "at"], name="referrals_click_offer_at"),
        ),
    ]
