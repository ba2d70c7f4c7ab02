"""The demo (``seed_demo``, ``seed_demo_consents``, ``seed_demo_alliance``) loaded into a test
database, for the seed tests and the README examples. Import the fixtures by name.

Loading the demo needs a transactional database (a live server or the demo receiver reads it
from another thread), which starts flushed when another transactional test ran before: the
purpose catalogue, which a data migration writes, is put back first. (Serialized rollback would
restore it too, but its rows clash with the content types a flush re-creates under new ids.)
"""

import importlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from federation.management.commands.demo_webhook_receiver import make_server

# Small enough to load in seconds; the README's story still works at this size.
DEMO_MEMBERS = 300
# With 300 host members about 20 people are in both the host's and Midori's base: the
# alliance's floor is lowered so that the overlap shows them (the agreements take it when
# drafted, as they take the default of 50 on a real demo).
DEMO_MIN_CELL = 10


@pytest.fixture
def demo_db(transactional_db: None, eager_celery: None, settings: Any) -> None:
    """A transactional database with the purpose catalogue, tasks run in-process (as on a
    laptop, so webhooks are sent when the seed commits), and the demo's overlap floor."""
    from django.apps import apps

    importlib.import_module("consent.migrations.0002_seed_purposes").seed(apps, None)
    settings.SANPO_OVERLAP_MIN_CELL_FLOOR = DEMO_MIN_CELL
    settings.SANPO_WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def demo_receiver() -> Iterator[str]:
    """``demo_webhook_receiver`` on a free port, in a thread: its base URL."""
    import threading

    server = make_server(0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def load_demo(receiver: str, *, members: int = DEMO_MEMBERS) -> str:
    """Run the three seed commands as ``make run`` does; return what they printed."""
    out = io.StringIO()
    call_command("seed_demo", members=members, stdout=out)
    call_command("seed_demo_consents", stdout=out)
    call_command("seed_demo_alliance", receiver=receiver, stdout=out)
    return out.getvalue()
