"""What enrollment adds to the registries of the apps below, from ``FederationConfig.ready``:
the webhook events of an enrollment's life and of a campaign."""

from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "enrollment.requested": "A member of a partner joins your program: read the fields you may "
    "receive through the API, then confirm with your member number.",
    "enrollment.confirmed": "A partner confirmed a member you enrolled with it.",
    "enrollment.ended": "An enrollment ended: the partner reads nothing more.",
    "enrollment.batch_completed": "A partner enrolled many members with your program at once: "
    "list them through the API.",
}


def register() -> None:
    register_event_types(WEBHOOK_EVENTS)
