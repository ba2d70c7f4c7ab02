from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consent import (
            admin_panels,
            errors,
            receivers,  # noqa: F401 - connects the signal receivers
            tasks,  # noqa: F401 - registers the tasks services queue by name
        )
        from consent.audit import ConsentAuditAction
        from partners.audit_actions import register_audit_actions
        from partners.errors import register_error_codes
        from partners.webhook_events import register_event_types

        register_error_codes(errors.ConsentErrorCode, errors.STATUSES)
        register_audit_actions(ConsentAuditAction)
        admin_panels.register()  # the consent panel of a member's page in the console

        register_event_types(
            {
                "consent.withdrawn": (
                    "A member withdrew consent for data your company received: stop using it, "
                    "then acknowledge the withdrawal."
                ),
                "consent.member_erased": (
                    "A member whose data your company received was erased at their request: "
                    "delete what you hold about them."
                ),
            }
        )
