from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Federation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consent.preference_page.notices import register_notice_source
        from federation import (
            errors,
            tasks,  # noqa: F401 - registers the tasks services queue by name
        )
        from federation.agreements.notices import joint_use_notices
        from federation.agreements.terms import register_terms_section
        from federation.audit import FederationAuditAction
        from federation.overlap.terms import clean_overlap_terms
        from partners.audit_actions import register_audit_actions
        from partners.errors import register_error_codes
        from partners.webhook_events import register_event_types

        register_notice_source(joint_use_notices)
        register_terms_section("overlap", clean_overlap_terms)
        register_error_codes(errors.FederationErrorCode, errors.STATUSES)
        register_audit_actions(FederationAuditAction)
        register_event_types(
            {
                "agreement.proposed": "A version of an agreement your company is party to "
                "awaits your signature.",
                "agreement.signed": "A party signed a proposed version of your agreement.",
                "agreement.version_signed": "Every party signed a version: it is in force "
                "from its date.",
                "agreement.withdrawn": "A proposed version was withdrawn before every party "
                "signed.",
                "agreement.suspended": "An agreement was suspended: nothing it allows may "
                "happen until it is resumed.",
                "agreement.resumed": "A suspended agreement is active again.",
                "agreement.terminated": "An agreement was terminated.",
                "agreement.expired": "An agreement's terms ran out.",
                "enrollment.requested": "A member of a partner joins your program: read the "
                "fields you may receive through the API, then confirm with your member number.",
                "enrollment.confirmed": "A partner confirmed a member you enrolled with it.",
                "enrollment.ended": "An enrollment ended: the partner reads nothing more.",
                "enrollment.batch_completed": "A partner enrolled many members with your "
                "program at once: list them through the API.",
            }
        )
