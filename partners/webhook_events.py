"""The catalogue of webhook event types a partner can subscribe to.

Each app registers its own types from ``AppConfig.ready`` with ``register_event_types``, so
subscriptions are validated against what the service can really send.
"""

EVENT_TYPES: dict[str, str] = {
    "webhook.ping": "A test delivery sent on request.",
    "api_key.issued": "An API key was issued for your company.",
    "api_key.revoked": "One of your company's API keys was revoked.",
    "partner.suspended": "Your company's access was suspended.",
    "partner.resumed": "Your company's access was resumed.",
}


def register_event_types(types: dict[str, str]) -> None:
    clashes = set(types) & set(EVENT_TYPES)
    if clashes:
        raise ValueError(f"Webhook event types registered twice: {sorted(clashes)}")
    EVENT_TYPES.update(types)
