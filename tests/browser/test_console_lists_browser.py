"""The console's busiest lists fit a 1366x768 laptop screen, in Japanese and in English: no
page that scrolls sideways, no table clipped inside its scrolling box."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from partners import services
from partners.actors import Actor
from tests.browser.conftest import LogIn, NewContext
from tests.conftest import WebhookReceiver
from tests.factories import make_member, make_partner

LISTS = [
    "/admin/partners/memberaccount/",
    "/admin/partners/auditevent/",
    "/admin/partners/webhookdelivery/",
]
LAPTOP = {"width": 1366, "height": 768}


def _world(manager: User, receiver: WebhookReceiver) -> None:
    """Rows with long values, where a column is likeliest to push the table wide."""
    partner = make_partner(
        "long-named-partner-co",
        name_latin="The Exceptionally Long-Named Fictional Partner Company of Nowhere",
    )
    actor = Actor(user=manager)
    for number in range(3):
        make_member(partner, f"M-{number:04d}-LONG-MEMBER-NUMBER", prefecture="13")
    services.webhook_endpoint_create(
        partner=partner,
        # The local receiver: the delivery is sent when its row is committed.
        url=f"{receiver.url}/a/very/long/path/for/the/webhook/receiver/of/this/partner/company",
        events=["api_key.issued"],
        actor=actor,
    )
    services.webhook_emit(partner=partner, event_type="api_key.issued", data={"api_key_id": "k"})
    services.api_key_issue(
        partner=partner, name="a key with a long descriptive name", scopes=["read"], actor=actor
    )


def _overflow(page: Page) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
                const results = document.querySelector('#changelist .results');
                return {
                    page: document.documentElement.scrollWidth - window.innerWidth,
                    table: results ? results.scrollWidth - results.clientWidth : 0,
                    rows: document.querySelectorAll('#result_list tbody tr').length,
                };
            }"""
        )
    )


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_the_busiest_lists_fit_a_laptop_screen(
    locale: str,
    alliance_manager: User,
    new_context: NewContext,
    log_in: LogIn,
    webhook_receiver: WebhookReceiver,
) -> None:
    _world(alliance_manager, webhook_receiver)
    context = new_context(viewport=LAPTOP, locale=locale)
    log_in(alliance_manager, into=context)
    page = context.new_page()

    for url in LISTS:
        page.goto(url)
        measured = _overflow(page)
        assert measured["rows"] > 0, url
        assert measured["page"] <= 0, (url, measured)
        assert measured["table"] <= 0, (url, measured)
