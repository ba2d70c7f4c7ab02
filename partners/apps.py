from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners and access")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from partners import tasks  # noqa: F401 - registers the tasks services queue by name
        from partners.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from partners.audit_actions import register_audit_actions
        from partners.models import AuditEvent

        register_audit_actions(AuditEvent.Action)

        from partners.request_ids import connect_signals

        connect_signals()  # a task runs under the id of the request that queued it

        from django.contrib.auth.signals import user_logged_in

        from partners.preferences import remember_saved_language

        user_logged_in.connect(remember_saved_language, dispatch_uid="partners.saved_language")
