"""What a new privacy notice version changes for members, compared with the version in force:
the purposes, recipients and data items it covers (named in the reader's language) and the
lines of its text. Consents given under the version in force carry over to the new one only
when its conditions are the same (``PrivacyNotice``): the preview says which it is."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from consent.models import PrivacyNotice, Purpose
from consent.names import data_item_name, partner_name
from consent.selectors import notice_in_force
from consent.services.common import sha256_canonical
from partners.models import Partner


@dataclass(frozen=True)
class Difference:
    """What one kind of condition gains and loses, each named for the reader."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class NoticeChanges:
    current: PrivacyNotice | None  # the version in force, in the new one's language if any
    purposes: Difference
    recipients: Difference
    data_items: Difference
    text: list[tuple[str, str]]  # (" ", "+" or "-", a line), only where the text changed
    conditions_changed: bool  # members' consents do not carry over to the new version

    @property
    def text_changed(self) -> bool:
        return any(mark != " " for mark, _line in self.text)


def _difference(old: Iterable[str], new: Iterable[str], name: dict[str, str]) -> Difference:
    before, after = set(old), set(new)
    return Difference(
        added=[name.get(code, code) for code in sorted(after - before)],
        removed=[name.get(code, code) for code in sorted(before - after)],
    )


def notice_changes(
    *,
    language: str,
    text: str,
    purposes: Iterable[str],
    recipients: Iterable[Partner],
    data_items: Iterable[str],
) -> NoticeChanges:
    """Compare a notice about to be published with the version in force (nothing, when none
    is): three queries, the version in force in ``language``, the purposes' and the companies'
    names."""
    in_force = notice_in_force()
    current = in_force
    if in_force is not None and in_force.language != language:
        same_version = PrivacyNotice.objects.filter(version=in_force.version, language=language)
        current = same_version.first() or in_force
    old = current.conditions if current is not None else {}
    conditions = {
        "purposes": sorted(set(purposes)),
        "recipients": sorted({partner.slug for partner in recipients}),
        "data_items": sorted(set(data_items)),
    }
    purpose_names = {p.code: p.display_name for p in Purpose.objects.all()}
    slugs = set(conditions["recipients"]) | set(old.get("recipients", []))
    partner_names = {p.slug: partner_name(p) for p in Partner.objects.filter(slug__in=slugs)}
    item_codes = set(conditions["data_items"]) | set(old.get("data_items", []))
    old_lines = current.text.splitlines() if current is not None else []
    lines = list(difflib.ndiff(old_lines, text.splitlines()))
    return NoticeChanges(
        current=current,
        purposes=_difference(old.get("purposes", []), conditions["purposes"], purpose_names),
        recipients=_difference(old.get("recipients", []), conditions["recipients"], partner_names),
        data_items=_difference(
            old.get("data_items", []),
            conditions["data_items"],
            {code: data_item_name(code) for code in item_codes},
        ),
        text=[(line[0], line[2:]) for line in lines if line[:1] in " +-"],
        conditions_changed=current is None
        or sha256_canonical(conditions) != current.conditions_sha256,
    )
