"""The joint-use notices (APPI 共同利用) of agreements in force, for the member's preference
page: what is used jointly, by whom, for what, and who is responsible, in the page's language.

The notice's own statements (its data items, joint users, purpose and responsible party) are
published as the agreement's parties wrote them; the words around them are translated here, and
the member's data items the flow covers are named as consent names them everywhere."""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from consent.names import data_item_list
from consent.preference_page.notices import PublishedNotice
from federation.agreements.models import Agreement
from federation.agreements.selectors import joint_use_flows_of
from partners.models import MemberAccount

# The labels of the items the law requires a joint-use notice to state.
DATA_ITEMS = _("Data used jointly")
USERS_SCOPE = _("Who uses it jointly")
PURPOSE_OF_USE = _("For what")
RESPONSIBLE = _("Responsible for its management")
MEMBER_DATA = _("Your member data it covers")


def joint_use_notices(member: MemberAccount, language: str) -> list[PublishedNotice]:
    with translation.override(language):
        return [
            _published(agreement, flow) for agreement, flow in joint_use_flows_of(member.partner)
        ]


def _published(agreement: Agreement, flow: dict[str, Any]) -> PublishedNotice:
    notice = flow["joint_use"]
    responsible = pgettext("joint-use notice", "%(name)s, %(address)s, %(representative)s") % {
        "name": notice["responsible_name"],
        "address": notice["responsible_address"],
        "representative": notice["responsible_representative"],
    }
    return PublishedNotice(
        title=agreement.title,
        items=[
            (str(DATA_ITEMS), notice["data_items"]),
            (str(MEMBER_DATA), data_item_list(flow["fields"])),
            (str(USERS_SCOPE), notice["users_scope"]),
            (str(PURPOSE_OF_USE), notice["purpose_of_use"]),
            (str(RESPONSIBLE), responsible),
        ],
    )
