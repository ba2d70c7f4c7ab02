"""Tasks go to queues by kind (``config.celery.QUEUES``), so workers can be given one kind each
and a heavy import or settlement never waits in front of a webhook delivery."""

import json
import re
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from config.celery import QUEUES, app


def _project_tasks() -> set[str]:
    app.loader.import_default_modules()  # what a worker imports at start
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_of_the_project_is_routed_to_a_named_queue_deliberately() -> None:
    listed = [task for tasks in QUEUES.values() for task in tasks]
    registered = _project_tasks()
    assert len(registered) > 20  # the enumeration finds the project's tasks
    assert sorted(registered - set(listed)) == [], "add each new task to config.celery.QUEUES"
    assert sorted(set(listed) - registered) == [], "a name in QUEUES that no task has"
    assert len(listed) == len(set(listed)), "a task in two queues"
    for queue, tasks in QUEUES.items():
        for task in tasks:
            assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_beat_entry_goes_to_a_named_queue() -> None:
    routed = {task: queue for queue, tasks in QUEUES.items() for task in tasks}
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in routed


def test_a_worker_started_without_queues_consumes_every_queue() -> None:
    assert sorted(app.amqp.queues) == sorted(QUEUES)
    assert app.conf.task_default_queue in QUEUES


def _queued_tasks(client: redis.Redis, queue: str) -> list[str]:
    return [json.loads(body)["headers"]["task"] for body in client.lrange(queue, 0, -1)]


@pytest.mark.broker
def test_deliveries_and_imports_reach_their_own_lists_on_the_redis_broker() -> None:
    from partners.tasks import deliver_webhook, run_member_import

    assert not app.conf.task_always_eager
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*QUEUES)
    try:
        deliver_webhook.apply_async((str(uuid.uuid4()), 1))
        run_member_import.apply_async((str(uuid.uuid4()),))
        run_member_import.apply_async((str(uuid.uuid4()),))

        lengths = {queue: client.llen(queue) for queue in QUEUES}
        assert lengths == {"webhooks": 1, "imports": 2, "ledger": 0, "reports": 0, "default": 0}
        assert _queued_tasks(client, "webhooks") == ["partners.tasks.deliver_webhook"]
        assert _queued_tasks(client, "imports") == ["partners.tasks.run_member_import"] * 2
    finally:
        client.delete(*QUEUES)  # ids of nothing: no later test's worker should take them


def test_the_load_run_s_workers_consume_every_queue_between_them() -> None:
    """tests/load/run.sh splits its two workers by kind, as on several hosts; a queue that
    neither took would never drain under load."""
    script = (Path(__file__).parent / "load" / "run.sh").read_text(encoding="utf-8")
    (default,) = re.findall(r'LOAD_WORKER_QUEUES:-([^}"]+)\}', script)
    workers = [set(item.split(",")) for item in default.split()]
    assert len(workers) == 2
    assert set().union(*workers) == set(QUEUES)
    assert "webhooks" in workers[0]
    assert not workers[0] & {"ledger", "imports", "reports"}
