"""Every curl example in the README works, verbatim, on the demo data.

The demo (``make run``'s seed commands, at a small size) is loaded into the test database and
served by a live server. Each ``sh`` block of the README with ``# →`` lines is an example: its
commands run in one bash, in order, with the README's base URL replaced by the live server's.
Each ``# → <status> <fields>`` line states what the last request before it answers: the status
must match, and so must the fields shown (``…`` stands for a value that varies: ``"key": …``
must be present and not null, ``"key": "mp_…"`` a string that starts so, and a key before
``{`` or ``[`` only present).
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.demo_data import (  # noqa: F401  (fixtures)
    demo_db,
    demo_receiver,
    load_demo,
)

README = Path(__file__).resolve().parent.parent / "README.md"
README_BASE_URL = "http://127.0.0.1:8000"
EXPECTED = "# → "

# curl, wrapped: the body goes to stdout as usual (so `X=$(curl …)` and pipes work as the
# README shows), and the status and body of the latest request to files the test reads.
PRELUDE = r"""
set -o pipefail
curl() {
  command curl -o "$SANPO_README_DIR/body" -w '%{http_code}' "$@" > "$SANPO_README_DIR/status"
  cat "$SANPO_README_DIR/body"
}
step_done() {
  cp "$SANPO_README_DIR/status" "$SANPO_README_DIR/status.$1"
  cp "$SANPO_README_DIR/body" "$SANPO_README_DIR/body.$1"
}
"""


@dataclass
class Step:
    commands: list[str]
    expected: list[str]  # the "# →" line and the comment lines that continue it
    line: int  # of the "# →" line in the README

    @property
    def status(self) -> int:
        return int(self.expected[0].removeprefix(EXPECTED).split()[0])

    @property
    def name(self) -> str:
        command = " ".join(" ".join(self.commands).split())
        return f"README line {self.line}: {command[:160]}"


@dataclass
class Example:
    line: int
    steps: list[Step] = field(default_factory=list)


def readme_examples(text: str) -> list[Example]:
    """The README's sh blocks that state results, split into steps at each ``# →`` line."""
    examples: list[Example] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```sh":
            index += 1
            continue
        start, body = index + 1, []
        index += 1
        while lines[index].strip() != "```":
            body.append((index + 1, lines[index]))
            index += 1
        if any(line.startswith(EXPECTED) for _, line in body):
            examples.append(_steps(start, body))
    return examples


def _steps(start: int, body: list[tuple[int, str]]) -> Example:
    example = Example(line=start)
    commands: list[str] = []
    current: Step | None = None
    for number, line in body:
        if line.startswith(EXPECTED):
            current = Step(commands=commands, expected=[line], line=number)
            example.steps.append(current)
            commands = []
        elif current is not None and line.startswith("#  ") and not commands:
            current.expected.append(line)  # the result continues on this line
        else:
            current = None
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line)
    leftover = [command for command in commands if "curl" in command]
    assert not leftover, f"README line {start}: a curl example states no result ({EXPECTED}…)"
    return example


def _script(example: Example, base_url: str) -> str:
    parts = [PRELUDE]
    for number, step in enumerate(example.steps):
        parts += [command.replace(README_BASE_URL, base_url) for command in step.commands]
        parts.append(f"step_done {number}")
    return "\n".join(parts) + "\n"


# --- What a "# →" line says ---------------------------------------------------------------

_FIELD = re.compile(
    r'"(?P<key>[\w-]+)":\s*(?P<value>"[^"]*"|-?\d+(?:\.\d+)?|true|false|null|…|[\[{])'
)


def _found(document: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in ``document``."""
    values = []
    if isinstance(document, dict):
        for name, value in document.items():
            if name == key:
                values.append(value)
            values += _found(value, key)
    elif isinstance(document, list):
        for item in document:
            values += _found(item, key)
    return values


def _matches(value: Any, stated: str) -> bool:
    if stated in "[{":
        return True
    if stated == "…":
        return value is not None
    if stated.startswith('"') and "…" in stated:
        return isinstance(value, str) and value.startswith(stated[1:].split("…")[0])
    return bool(value == json.loads(stated))


def problems(step: Step, status: int, body: str) -> list[str]:
    found = []
    if status != step.status:
        found.append(f"answered {status}, the README says {step.status}")
    stated = " ".join(line.lstrip("#→ ") for line in step.expected)
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return [*found, "the answer is not JSON"]
    for match in _FIELD.finditer(stated):
        key, value = match["key"], match["value"]
        values = _found(document, key)
        if not values:
            found.append(f"no field {key!r}")
        elif not any(_matches(candidate, value) for candidate in values):
            found.append(f"{key!r} is {values[0]!r}, the README says {value}")
    return found


# --- The examples, run -------------------------------------------------------------------


def test_the_readme_states_results_for_its_curl_examples() -> None:
    examples = readme_examples(README.read_text(encoding="utf-8"))
    steps = [step for example in examples for step in example.steps]
    assert len(examples) >= 2
    # The worked examples of the partner API and of federation, at least.
    assert len(steps) >= 9
    assert all(100 <= step.status < 600 for step in steps)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_every_readme_curl_example_works_on_the_demo(
    demo_db: None,  # noqa: F811
    demo_receiver: str,  # noqa: F811
    live_server: Any,
) -> None:
    load_demo(demo_receiver)
    failures = []
    for example in readme_examples(README.read_text(encoding="utf-8")):
        with tempfile.TemporaryDirectory() as workdir:
            run = subprocess.run(  # noqa: S603
                ["bash", "-c", _script(example, live_server.url)],  # noqa: S607
                env={**os.environ, "SANPO_README_DIR": workdir},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            for number, step in enumerate(example.steps):
                status_file = Path(workdir, f"status.{number}")
                if not status_file.exists():
                    failures.append(f"{step.name}: did not run ({run.stderr.strip()[-300:]})")
                    break
                body = Path(workdir, f"body.{number}").read_text(encoding="utf-8")
                status = int(status_file.read_text() or 0)
                failures += [
                    f"{step.name}: {problem}\n    answer: {body[:400]}"
                    for problem in problems(step, status, body)
                ]
    assert not failures, "\n".join(failures)
