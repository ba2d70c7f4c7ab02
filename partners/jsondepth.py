"""JSON from outside, parsed with a bound on nesting.

Python's parser recurses once per level, so a body of a few hundred bytes of ``[[[[…`` ends in
a ``RecursionError`` (a 500) instead of a clear refusal. Nothing Sanpo accepts nests deeper than
a handful of levels, so anything past ``MAX_DEPTH`` is refused as a ``ValueError`` of its own
whatever the depth: the parser's own recursion limit and a walk of the parsed value both end in
the same ``JSONTooDeepError``.
"""

import json
from collections.abc import Iterable
from typing import Any

MAX_DEPTH = 32


class JSONTooDeepError(ValueError):
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        super().__init__(f"The JSON nests more than {max_depth} levels deep.")


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests arrays or objects more than ``max_depth`` levels deep, found
    without recursion (the check must not fail the way the parser does)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """``json.loads`` (with its ``options``) that raises ``JSONTooDeepError`` (a ``ValueError``)
    for deep nesting and ``json.JSONDecodeError`` (also a ``ValueError``) for everything else
    that is not JSON."""
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JSONTooDeepError(max_depth) from None
    if depth_exceeds(value, max_depth):
        raise JSONTooDeepError(max_depth)
    return value
