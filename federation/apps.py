from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Federation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from partners.webhook_events import register_event_types

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
            }
        )
