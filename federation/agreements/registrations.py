"""What agreements add to the registries of the apps below, from ``FederationConfig.ready``:
their joint-use notices on the members' preference page, and the webhook events of an
agreement's life."""

from consent.preference_page.notices import register_notice_source
from federation.agreements.notices import joint_use_notices
from partners.webhook_events import register_event_types

WEBHOOK_EVENTS = {
    "agreement.proposed": "A version of an agreement your company is party to awaits your "
    "signature.",
    "agreement.signed": "A party signed a proposed version of your agreement.",
    "agreement.version_signed": "Every party signed a version: it is in force from its date.",
    "agreement.withdrawn": "A proposed version was withdrawn before every party signed.",
    "agreement.suspended": "An agreement was suspended: nothing it allows may happen until it "
    "is resumed.",
    "agreement.resumed": "A suspended agreement is active again.",
    "agreement.terminated": "An agreement was terminated.",
    "agreement.expired": "An agreement's terms ran out.",
}


def register() -> None:
    register_notice_source(joint_use_notices)
    register_event_types(WEBHOOK_EVENTS)
