from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    """One Django app whose domains (agreements, and those standing on them) are sub-packages,
    not apps: their tables, migrations and app label stay the federation's. Each domain adds
    what it brings to the registries below (terms sections, notices, webhook events) from a
    ``registrations`` module of its own, listed here."""

    name = "federation"
    verbose_name = _("Federation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from federation import (
            errors,
            tasks,  # noqa: F401 - registers the tasks services queue by name
        )
        from federation.agreements import partner_console as agreements_console
        from federation.agreements import registrations as agreements
        from federation.audit import FederationAuditAction
        from federation.campaigns import registrations as campaigns
        from federation.coins import registrations as coins
        from federation.enrollment import admin_panels as enrollment_panels
        from federation.enrollment import registrations as enrollment
        from federation.holdouts import registrations as holdouts
        from federation.metrics import registrations as metrics
        from federation.overlap import registrations as overlap
        from federation.referrals import registrations as referrals
        from federation.settlement import registrations as settlement
        from partners.audit_actions import register_audit_actions
        from partners.errors import register_error_codes

        register_error_codes(errors.FederationErrorCode, errors.STATUSES)
        register_audit_actions(FederationAuditAction)  # lazy labels, read in the reader's language
        # Agreements first: the rest stand on it. Referrals next, so the terms document keeps
        # its parts in the order they were written in (its referral part came with it).
        for domain in (
            agreements,
            referrals,
            enrollment,
            overlap,
            holdouts,
            coins,
            settlement,
            campaigns,
            metrics,
        ):
            domain.register()
        enrollment_panels.register()  # the enrollment panel of a member's page in the console
        # What partner staff see of their company's programmes in the partner console.
        agreements_console.register_partner_console()
        enrollment_panels.register_partner_console()
