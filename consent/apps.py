from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from partners.webhook_events import register_event_types

        register_event_types(
            {
                "consent.withdrawn": (
                    "A member withdrew consent for data your company received: stop using it, "
                    "then acknowledge the withdrawal."
                )
            }
        )
