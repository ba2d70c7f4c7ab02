"""The coin part of the agreement's terms: whether coins move between the parties' programs,
and what each party's program grants and how its coins expire.

``{"exchange": true, "programs": {"<party>": {...}}}``, each program with:
- ``yen_per_coin``: the yen each coin it issues is funded with (settlement values lots at it);
- ``rate_to_shared``: shared coins per program coin;
- ``coins_per_100_yen``: coins earned per 100 yen of purchase (optional, 0 when absent);
- ``pending_days``: purchase coins stay pending this long (the return window; optional);
- ``expiry_days`` and ``expiry_after_activity``: coins expire that many days after they were
  issued, or, when ``expiry_after_activity`` is true, after the member's last activity with
  the program (the common Japanese rule: 365); no expiry when absent;
- ``reactivation_days`` and ``reactivation_bonus``: a member dormant that many days who earns
  through an action gets that many bonus coins.

and the action catalogue, ``"actions": [{"party", "type", "coins", ...}]``: what a party's
program grants for an action between purchases (a video watched, an event attended, a survey
answered, a review written), each with optional caps per member ``per_day`` and ``per_month``
and ``once_per_content`` (one grant per member and piece of content, such as a video's id),
and an optional ``holdout_percent``: the share of members held out of the rule
(``federation.holdouts``), whom the action earns nothing.

Japan's Premiums and Representations Act caps what a purchase may earn at 20% of its price
(for purchases of 1,000 yen or more; 200 yen below that): a program whose rate could exceed it,
``coins_per_100_yen * yen_per_coin > 20``, is refused when drafted. Registered with the terms
document from the coin domain's ``registrations``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from federation.agreements.terms import (
    MISSING,
    TermsContext,
    TermsInput,
    TermsInputs,
    decimal_text,
)

# The premium cap on purchase coins: their yen value per 100 yen of purchase.
PREMIUM_CAP_PER_100_YEN = Decimal(20)
MAX_DAYS = 3650
MAX_BONUS = 1_000_000
MAX_ACTIONS = 50
MAX_ACTION_COINS = 100_000
MAX_CAP = 10_000
MAX_HOLDOUT = 50  # percent
ACTION_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def clean_coin_terms(raw: Any, context: TermsContext) -> dict[str, Any]:
    coin: dict[str, Any] = {"exchange": False, "programs": {}}
    if raw is MISSING:
        return coin
    if not isinstance(raw, Mapping) or not isinstance(raw.get("exchange"), bool):
        context.fail(
            "coin.exchange",
            _("Say whether coins move between the parties' programs (true/false)."),
        )
        return coin
    coin["exchange"] = raw["exchange"]
    programs = raw.get("programs", {})
    if not isinstance(programs, Mapping):
        context.fail("coin.programs", _("Give the programs as an object keyed by party."))
        programs = {}
    for slug, program in programs.items():
        path = f"coin.programs.{slug}"
        if slug not in context.parties:
            context.fail(path, _("Only a party runs a coin program here."))
        elif not isinstance(program, Mapping):
            context.fail(path, _("Give yen_per_coin and rate_to_shared."))
        else:
            coin["programs"][slug] = _clean_program(program, path, context)
    actions = _actions(raw.get("actions", []), coin["programs"], context)
    if actions:  # a document without actions stays as it was written before there were any
        coin["actions"] = actions
    if coin["exchange"] and len(coin["programs"]) < 2:
        context.fail(
            "coin.programs", _("Coin exchange needs the programs of at least two parties.")
        )
    return coin


def _clean_program(program: Mapping[str, Any], path: str, context: TermsContext) -> Any:
    # An optional setting given as null (a blank input in the console) is not given.
    program = {key: value for key, value in program.items() if value is not None}
    yen = decimal_text(program.get("yen_per_coin"), minimum=Decimal("0.01"), maximum=Decimal(1000))
    rate = decimal_text(
        program.get("rate_to_shared"), minimum=Decimal("0.0001"), maximum=Decimal(10000)
    )
    if yen is None:
        context.fail(
            f"{path}.yen_per_coin",
            _("The yen each issued coin is funded with: a decimal string from 0.01 to 1000."),
        )
    if rate is None:
        context.fail(
            f"{path}.rate_to_shared",
            _("Shared coins per program coin: a decimal string from 0.0001 to 10000."),
        )
    clean: dict[str, Any] = {"yen_per_coin": yen, "rate_to_shared": rate}
    clean.update(_earning(program, path, context, yen))
    clean.update(_expiry(program, path, context))
    return clean


def _earning(
    program: Mapping[str, Any], path: str, context: TermsContext, yen: str | None
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "coins_per_100_yen" in program:
        rate = decimal_text(program["coins_per_100_yen"], minimum=Decimal(0), maximum=Decimal(100))
        if rate is None:
            context.fail(
                f"{path}.coins_per_100_yen",
                _("Coins per 100 yen of purchase: a decimal string from 0 to 100."),
            )
        elif yen is not None and Decimal(rate) * Decimal(yen) > PREMIUM_CAP_PER_100_YEN:
            context.fail(
                f"{path}.coins_per_100_yen",
                _(
                    "Purchase coins worth %(value)s yen per 100 yen exceed the 20%% premium cap "
                    "of the Premiums and Representations Act."
                )
                % {"value": format((Decimal(rate) * Decimal(yen)).normalize(), "f")},
            )
        clean["coins_per_100_yen"] = rate
    for key, most in (("pending_days", 365), ("reactivation_days", MAX_DAYS)):
        if key in program:
            clean[key] = _whole(program[key], f"{path}.{key}", context, 1, most)
    if "reactivation_bonus" in program:
        clean["reactivation_bonus"] = _whole(
            program["reactivation_bonus"], f"{path}.reactivation_bonus", context, 1, MAX_BONUS
        )
    if ("reactivation_days" in clean) != ("reactivation_bonus" in clean):
        context.fail(
            f"{path}.reactivation_bonus",
            _("Give both the dormant days and the bonus, or neither."),
        )
    return clean


def _expiry(program: Mapping[str, Any], path: str, context: TermsContext) -> dict[str, Any]:
    after_activity = program.get("expiry_after_activity", False)
    if not isinstance(after_activity, bool):
        context.fail(f"{path}.expiry_after_activity", _("Yes or no (true/false)."))
        return {}
    if "expiry_days" not in program:
        if after_activity:
            context.fail(
                f"{path}.expiry_days", _("Say after how many days of no activity coins expire.")
            )
        return {}
    days = _whole(program["expiry_days"], f"{path}.expiry_days", context, 1, MAX_DAYS)
    return {"expiry_days": days, "expiry_after_activity": after_activity}


def _actions(raw: Any, programs: Mapping[str, Any], context: TermsContext) -> list[Any]:
    """The action catalogue: a list of actions, each of a party that runs a program, one per
    party and type, sorted so that equal catalogues are equal documents."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ACTIONS:
        context.fail(
            "coin.actions",
            _("Give the actions as a list of at most %(most)s.") % {"most": MAX_ACTIONS},
        )
        return []
    actions: dict[tuple[str, str], dict[str, Any]] = {}
    for index, action in enumerate(raw):
        path = f"coin.actions[{index}]"
        clean = _action(action, path, programs, context)
        if clean is None:
            continue
        if (clean["party"], clean["type"]) in actions:
            context.fail(f"{path}.type", _("This company lists this action type twice."))
        actions[clean["party"], clean["type"]] = clean
    return [actions[key] for key in sorted(actions)]


def _action(
    action: Any, path: str, programs: Mapping[str, Any], context: TermsContext
) -> dict[str, Any] | None:
    if not isinstance(action, Mapping):
        context.fail(path, _("Give the company, the action type and its coins."))
        return None
    action = {key: value for key, value in action.items() if value is not None}
    clean: dict[str, Any] = {"party": action.get("party"), "type": action.get("type")}
    if clean["party"] not in programs:
        context.fail(f"{path}.party", _("Only a party with a coin program grants coins."))
    if not isinstance(clean["type"], str) or not ACTION_TYPE.fullmatch(clean["type"]):
        context.fail(
            f"{path}.type",
            _(
                "An action type: lowercase letters, digits and _, starting with a letter, "
                "40 at most."
            ),
        )
        return None
    clean["coins"] = _whole(action.get("coins"), f"{path}.coins", context, 1, MAX_ACTION_COINS)
    for key in ("per_day", "per_month"):
        if key in action:
            clean[key] = _whole(action[key], f"{path}.{key}", context, 1, MAX_CAP)
    if (clean.get("per_day") or 0) > (clean.get("per_month") or MAX_CAP):
        context.fail(f"{path}.per_day", _("The daily cap cannot exceed the monthly cap."))
    once = action.get("once_per_content", False)
    if not isinstance(once, bool):
        context.fail(f"{path}.once_per_content", _("Yes or no (true/false)."))
    clean["once_per_content"] = once is True
    if "holdout_percent" in action:
        clean["holdout_percent"] = _whole(
            action["holdout_percent"], f"{path}.holdout_percent", context, 1, MAX_HOLDOUT
        )
    return clean


def _whole(value: Any, path: str, context: TermsContext, least: int, most: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        context.fail(
            path,
            _("A whole number from %(least)s to %(most)s.") % {"least": least, "most": most},
        )
        return None
    return value


# What the coin part brings to the console's terms form.
COIN_INPUTS = TermsInputs(
    title=gettext_lazy("Coins"),
    inputs=(
        TermsInput(
            "exchange",
            gettext_lazy("Coin exchange"),
            kind="yes_no",
            help=gettext_lazy("Coins move between the programs of the parties below."),
        ),
    ),
    per_party_key="programs",
    per_party_title=gettext_lazy("Coin programs"),
    per_party=(
        TermsInput(
            "yen_per_coin",
            gettext_lazy("Funding per coin"),
            kind="decimal",
            unit="yen",
            help=gettext_lazy("The yen each issued coin is funded with (0.01 to 1,000)."),
        ),
        TermsInput(
            "rate_to_shared",
            gettext_lazy("Shared coins per coin"),
            kind="decimal",
            help=gettext_lazy("0.0001 to 10,000."),
        ),
        TermsInput(
            "coins_per_100_yen",
            gettext_lazy("Coins per 100 yen of purchase"),
            kind="decimal",
            help=gettext_lazy("Their value may not exceed 20 yen per 100 yen (the premium cap)."),
        ),
        TermsInput(
            "pending_days",
            gettext_lazy("Return window"),
            unit="days",
            help=gettext_lazy("Purchase coins stay pending this long; blank: spendable at once."),
        ),
        TermsInput(
            "expiry_days",
            gettext_lazy("Coins expire after"),
            unit="days",
            help=gettext_lazy("Counted from issue, or from the last activity when ticked below."),
        ),
        TermsInput(
            "expiry_after_activity",
            gettext_lazy("Expiry counts from the last activity"),
            kind="yes_no",
        ),
        TermsInput(
            "reactivation_days",
            gettext_lazy("Dormant after"),
            unit="days",
            help=gettext_lazy("A member this long without activity who acts earns the bonus."),
        ),
        TermsInput("reactivation_bonus", gettext_lazy("Reactivation bonus (coins)")),
    ),
    list_key="actions",
    list_title=gettext_lazy("Coins for actions between purchases"),
    listed=(
        TermsInput(
            "type",
            gettext_lazy("Action type"),
            kind="code",
            help=gettext_lazy("As the company reports it: video_watched, event_attended, ..."),
        ),
        TermsInput("coins", gettext_lazy("Coins per action")),
        TermsInput(
            "per_day",
            gettext_lazy("At most per day"),
            help=gettext_lazy("Grants per member and day; blank: no daily cap."),
        ),
        TermsInput(
            "per_month",
            gettext_lazy("At most per month"),
            help=gettext_lazy("Grants per member and month; blank: no monthly cap."),
        ),
        TermsInput(
            "once_per_content",
            gettext_lazy("Once per content"),
            kind="yes_no",
            help=gettext_lazy("One grant per member and piece of content (a video, an event)."),
        ),
        TermsInput(
            "holdout_percent",
            gettext_lazy("Held out (%)"),
            help=gettext_lazy(
                "A random share of members (1 to 50%) this action earns nothing, to measure "
                "its effect; blank: none."
            ),
        ),
    ),
)
