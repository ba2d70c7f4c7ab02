"""The demo alliance's agreements, as data: who signs, what flows, and how far each goes.

Every company and person here is fictional. ``seed_demo_alliance`` makes them through the
agreement services (draft, propose, every party signs), so they read like agreements an
alliance manager made in the admin.
"""

from typing import Any

CONTACTS = {
    "kirari": ("Haruka Minase", "alliance@kirari.example"),
    "hoshizora": ("Kenta Arisugawa", "partners@hoshizora.example"),
    "midori-fitness": ("Sayaka Kotobuki", "biz@midori-fitness.example"),
    "tsubame-travel": ("Daichi Hoshimiya", "alliance@tsubame-travel.example"),
}
SIGNATORIES = {
    "kirari": "Haruka Minase, Alliance Director",
    "hoshizora": "Kenta Arisugawa, Partnerships Lead",
    "midori-fitness": "Sayaka Kotobuki, Business Development",
    "tsubame-travel": "Daichi Hoshimiya, Alliance Manager",
}
SEGMENTS = ["age_band", "kind", "prefecture"]


def flow(provider: str, recipient: str, purpose: str, *fields: str, **extra: Any) -> Any:
    return {
        "provider": provider,
        "recipient": recipient,
        "purpose": purpose,
        "fields": list(fields),
        **extra,
    }


def _program(yen: str, rate: str, per_100_yen: str = "1") -> dict[str, Any]:
    """A coin program: funding per coin, rate to the shared coin, coins per 100 yen of
    purchase (1% at 1 yen a coin), and coins that expire 365 days after the last activity."""
    return {
        "yen_per_coin": yen,
        "rate_to_shared": rate,
        "coins_per_100_yen": per_100_yen,
        "expiry_days": 365,
        "expiry_after_activity": True,
    }


def _kirari_program() -> dict[str, Any]:
    """The host's program: 1% of purchases, and 200 bonus coins for a member who comes back
    through an action after half a year without any."""
    return {**_program("1", "1"), "reactivation_days": 180, "reactivation_bonus": 200}


# What the programs grant for actions between purchases.
_ACTIONS = [
    {"party": "kirari", "type": "video_watched", "coins": 5, "per_day": 3, "per_month": 20},
    {"party": "kirari", "type": "event_attended", "coins": 50, "once_per_content": True},
    {"party": "kirari", "type": "survey_answered", "coins": 30, "once_per_content": True},
    {"party": "kirari", "type": "review_written", "coins": 20, "per_month": 4,
     "once_per_content": True},
    {"party": "midori-fitness", "type": "event_attended", "coins": 40, "once_per_content": True},
    {"party": "midori-fitness", "type": "video_watched", "coins": 4, "per_day": 2},
]  # fmt: skip

# What a referral between Kirari and Midori earns: 500 yen a sale, 200 yen a lead, for
# clicks in the last 30 days, locked after 7 days of review.
_MIDORI_REFERRAL = {
    "fee_yen": "500",
    "lead_fee_yen": "200",
    "attribution_days": 30,
    "review_days": 7,
}

_MIDORI_FLOWS = [
    flow("kirari", "midori-fitness", "cross_enrollment", "name", "name_kana", "email",
         "age_band", "prefecture"),
    flow("kirari", "midori-fitness", "co_marketing_contact", "name", "email"),
    flow("kirari", "midori-fitness", "overlap_matching", *SEGMENTS),
    flow("midori-fitness", "kirari", "overlap_matching", *SEGMENTS),
    flow("midori-fitness", "kirari", "cross_enrollment", "name", "email", "age_band"),
    flow("kirari", "midori-fitness", "coin_exchange", "name"),
    flow("midori-fitness", "kirari", "coin_exchange", "name"),
    flow("kirari", "midori-fitness", "referral_tracking", "email"),
    flow("midori-fitness", "kirari", "referral_tracking", "email"),
]  # fmt: skip
_TSUBAME_FLOWS = [
    flow("kirari", "tsubame-travel", "cross_enrollment", "name", "email", "phone", "age_band"),
    flow("kirari", "tsubame-travel", "overlap_matching", *SEGMENTS),
    flow("tsubame-travel", "kirari", "overlap_matching", *SEGMENTS),
    flow("tsubame-travel", "kirari", "cross_enrollment", "name", "email"),
]
_JOINT_USE = {
    "data_items": "年代、都道府県、会員種別",
    "users_scope": "きらりホームサービス株式会社およびほしぞら食品株式会社",
    "purpose_of_use": "新商品の調査と改善",
    "responsible_name": "きらりホームサービス株式会社",
    "responsible_address": "東京都千代田区きらり町1-2-3",
    "responsible_representative": "代表取締役 水無瀬 遥",
}


def _hoshizora_flows(*shipping: str) -> list[dict[str, Any]]:
    """Kirari gives Hoshizora its members for sampling (``shipping``) and research."""
    return [
        flow("kirari", "hoshizora", "sampling_shipment", *shipping),
        flow(
            "kirari",
            "hoshizora",
            "research_survey",
            *SEGMENTS,
            legal_basis="joint_use",
            joint_use=_JOINT_USE,
        ),
    ]


# Each agreement: its title, the parties and terms of version 1, an optional amendment
# (version 2: more parties, more terms) and an optional suspension.
AGREEMENTS: list[dict[str, Any]] = [
    {
        "title": "Kirari & Midori Fitness Club: members, coins and overlap",
        "parties": ["kirari", "midori-fitness"],
        "terms": {
            "data_flows": _MIDORI_FLOWS,
            "coin": {
                "exchange": True,
                "programs": {
                    "kirari": _kirari_program(),
                    "midori-fitness": _program("0.5", "0.5", "4"),
                },
                "actions": _ACTIONS,
            },
            "referral": _MIDORI_REFERRAL,
        },
        "amendment": {
            "summary": "Tsubame Travel joins: cross-enrollment, overlap and its coin program.",
            "parties": ["kirari", "midori-fitness", "tsubame-travel"],
            "terms": {
                "data_flows": _MIDORI_FLOWS + _TSUBAME_FLOWS,
                "coin": {
                    "exchange": True,
                    "programs": {
                        "kirari": _kirari_program(),
                        "midori-fitness": _program("0.5", "0.5", "4"),
                        "tsubame-travel": _program("2", "2"),
                    },
                    "actions": _ACTIONS,
                },
                "referral": _MIDORI_REFERRAL,
            },
        },
    },
    {
        "title": "Kirari & Hoshizora Foods: sampling and research",
        "parties": ["kirari", "hoshizora"],
        "terms": {"data_flows": _hoshizora_flows("name", "postal_code", "prefecture")},
        "amendment": {
            "summary": "Coins for survey answers, the phone for shipping, and referrals of "
            "well-rated products.",
            "parties": ["kirari", "hoshizora"],
            "terms": {
                "data_flows": [
                    # The notice in force names no address: the shipper gets the postal code and
                    # phone, and asks the member (the demo's notice is the consent domain's).
                    *_hoshizora_flows("name", "postal_code", "phone", "prefecture"),
                    flow("kirari", "hoshizora", "referral_tracking", "email"),
                ],
                "coin": {
                    "exchange": False,
                    "programs": {"hoshizora": _program("1", "1")},
                    "actions": [],
                },
                "referral": {"fee_percent": "5", "attribution_days": 30},
            },
        },
    },
    {
        "title": "Kirari & Tsubame Travel: referral pilot",
        "parties": ["kirari", "tsubame-travel"],
        "terms": {
            "data_flows": [flow("kirari", "tsubame-travel", "referral_tracking", "email")],
            "referral": {"fee_percent": "3", "attribution_days": 14},
        },
        "suspend": "Paused while Tsubame Travel reviews its referral landing pages.",
    },
]

# Who lets whom count the overlap with its base: (owner, viewer).
OVERLAP_VISIBILITY = [
    ("kirari", "midori-fitness"),
    ("midori-fitness", "kirari"),
    ("kirari", "tsubame-travel"),
    ("tsubame-travel", "kirari"),
]

# Enrollments: (source, target, the states of the first members that qualify, in order).
# A member of the source enrolls with the target; "confirmed" is confirmed by the target
# with a number of its own, "ended" is ended by the source.
ENROLLMENTS = [
    ("kirari", "midori-fitness", ["confirmed", "confirmed", "active", "active", "ended"]),
    ("kirari", "tsubame-travel", ["confirmed", "active", "active", "ended"]),
    ("midori-fitness", "kirari", ["confirmed", "active"]),
    ("tsubame-travel", "kirari", ["active"]),
]
# A campaign (an enrollment batch) of the host's next members with Tsubame Travel. (Hoshizora
# Foods holds no member base, so it runs no program to join: it samples and researches.)
BATCH = ("kirari", "tsubame-travel", 12)
