from django.apps import AppConfig
from django.utils import translation
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
        from federation.agreements import registrations as agreements
        from federation.audit import FederationAuditAction
        from federation.enrollment import registrations as enrollment
        from federation.overlap import registrations as overlap
        from partners.audit_actions import register_audit_actions
        from partners.errors import register_error_codes

        register_error_codes(errors.FederationErrorCode, errors.STATUSES)
        # The registry turns the labels into text once, here, at start-up: make that text the
        # English labels the audit log has always read, not the default language's. Once it
        # keeps them lazy (translated when read), this override changes nothing.
        with translation.override("en"):
            register_audit_actions(FederationAuditAction)
        for domain in (agreements, enrollment, overlap):  # agreements first: the rest stand on it
            domain.register()
