"""Handing work to Celery from a service, by the task's name.

Tasks are thin: they take ids, load rows and call services. A service that queues work
therefore names its task rather than importing it, since the import would run both ways (a
cycle, which import-linter refuses). Each app's ``AppConfig.ready`` imports its ``tasks``
module, so every name is registered in the web process and the workers alike; an unknown name
fails loudly in the service's own tests.
"""

from collections.abc import Callable
from typing import Any

from celery import current_app
from django.db import transaction


def enqueue(task_name: str, *args: Any, **options: Any) -> None:
    """Queue ``task_name(*args)`` now (run in-process when Celery is eager)."""
    current_app.tasks[task_name].apply_async(args, **options)


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Queue ``task_name(*args)`` once the current transaction commits: nothing runs for a
    change that rolled back, and the task always finds the rows the change wrote."""
    transaction.on_commit(_enqueuer(task_name, args))


def _enqueuer(task_name: str, args: tuple[Any, ...]) -> Callable[[], None]:
    return lambda: enqueue(task_name, *args)
