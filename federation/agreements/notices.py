"""The joint-use notices (APPI 共同利用) of agreements in force, for the member's preference
page: what is used jointly, by whom, for what, and who is responsible."""

from consent.preference_page.notices import PublishedNotice
from federation.agreements.selectors import joint_use_flows_of
from partners.models import MemberAccount

LABELS = {
    "ja": {
        "data_items": "共同して利用される個人データの項目",
        "users_scope": "共同して利用する者の範囲",
        "purpose_of_use": "利用する者の利用目的",
        "responsible": "管理について責任を有する者",
    },
    "en": {
        "data_items": "Data used jointly",
        "users_scope": "Who uses it jointly",
        "purpose_of_use": "For what",
        "responsible": "Responsible for its management",
    },
}


def joint_use_notices(member: MemberAccount, language: str) -> list[PublishedNotice]:
    labels = LABELS.get(language, LABELS["en"])
    notices = []
    for agreement, flow in joint_use_flows_of(member.partner):
        notice = flow["joint_use"]
        responsible = (
            f"{notice['responsible_name']}, {notice['responsible_address']}, "
            f"{notice['responsible_representative']}"
        )
        notices.append(
            PublishedNotice(
                title=agreement.title,
                items=[
                    (labels["data_items"], notice["data_items"]),
                    (labels["users_scope"], notice["users_scope"]),
                    (labels["purpose_of_use"], notice["purpose_of_use"]),
                    (labels["responsible"], responsible),
                ],
            )
        )
    return notices
