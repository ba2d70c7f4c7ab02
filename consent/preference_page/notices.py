"""Notices other apps publish on the member's preference page.

``consent`` sits below ``federation``, so it cannot ask for joint-use notices itself; an app
registers a function from its ``AppConfig.ready`` that returns, for one member and language,
the notices that concern the member (``PublishedNotice``), and the page shows them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from partners.models import MemberAccount


@dataclass(frozen=True)
class PublishedNotice:
    title: str
    items: list[tuple[str, str]]  # (label, text), in the page's language


NoticeSource = Callable[[MemberAccount, str], list[PublishedNotice]]
_SOURCES: list[NoticeSource] = []


def register_notice_source(source: NoticeSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def published_notices(member: MemberAccount, language: str) -> list[PublishedNotice]:
    return [notice for source in _SOURCES for notice in source(member, language)]
