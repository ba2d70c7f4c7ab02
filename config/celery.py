"""The Celery application.

Every periodic schedule of the project lives here, in one place, so an operator reading this
file knows everything beat will start; so does the queue each task goes to (``QUEUES``), so
workers can be given work by kind (README, "Running on several hosts").
"""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, setup_logging
from kombu import Queue

from config.beat_lock import take_beat_lock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sanpo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
beat_init.connect(take_beat_lock, weak=False)  # exactly one beat (config.beat_lock)

# Every task of the project, by the queue it goes to. Kinds apart, so a slow kind cannot starve
# another: a 100,000-member import or a month's settlement never sits in front of a webhook
# delivery. tests/test_celery_queues.py fails for a task missing here.
QUEUES: dict[str, tuple[str, ...]] = {
    # Deliveries to partners' receivers, short and many; a partner waits for each.
    "webhooks": (
        "partners.tasks.deliver_webhook",
        "partners.tasks.requeue_stalled_webhook_deliveries",
        "consent.tasks.resend_unacknowledged_withdrawals",
    ),
    # Bulk work on members, minutes each.
    "imports": (
        "partners.tasks.run_member_import",
        "partners.tasks.fail_abandoned_member_imports",
        "partners.tasks.merge_persons_split_by_a_race",
        "federation.tasks.run_enrollment_batch",
    ),
    # Jobs that post to, or read a month of, the coin ledger.
    "ledger": (
        "federation.tasks.release_pending_coins",
        "federation.tasks.expire_coins",
        "federation.tasks.expire_coin_holds",
        "federation.tasks.lock_referral_fees",
        "federation.tasks.compute_settlement_period",
    ),
    # Rollups and verifications that read everything and write figures.
    "reports": (
        "federation.tasks.refresh_metrics_rollups",
        "consent.tasks.verify_consent_chains",
    ),
    # Housekeeping: the outbox relay, expiries and retention purges (and Celery's own tasks).
    "default": (
        "partners.tasks.relay_outbox",
        "partners.tasks.purge_sent_outbox",
        "partners.tasks.purge_expired_idempotency_keys",
        "consent.tasks.purge_expired_provision_records",
        "consent.tasks.maintain_provision_record_partitions",
        "partners.tasks.retain_webhook_deliveries",
        "federation.tasks.maintain_coin_entry_partitions",
        "consent.tasks.maintain_consent_event_partitions",
        "federation.tasks.purge_referral_clicks",
        "federation.tasks.maintain_referral_click_partitions",
        "federation.tasks.expire_agreements",
        "federation.tasks.close_ended_campaigns",
    ),
}
# A worker started without -Q consumes every queue, so one worker (a laptop, the tests) still
# runs everything; production starts one per kind (-Q webhooks, ...).
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "default"
app.conf.task_routes = {task: {"queue": queue} for queue, tasks in QUEUES.items() for task in tasks}


def _at(task: str, **when: Any) -> dict[str, Any]:
    """A beat entry: ``task`` at the times of the crontab ``when``."""
    return {"task": task, "schedule": crontab(**when)}


app.conf.beat_schedule = {
    "partners-purge-idempotency-keys": _at(
        "partners.tasks.purge_expired_idempotency_keys", minute=17
    ),
    "partners-fail-abandoned-member-imports": _at(
        "partners.tasks.fail_abandoned_member_imports", minute=41, hour=3
    ),
    "partners-merge-persons-split-by-a-race": _at(
        "partners.tasks.merge_persons_split_by_a_race", minute="*/10"
    ),
    "consent-resend-unacknowledged-withdrawals": _at(
        "consent.tasks.resend_unacknowledged_withdrawals", minute=23
    ),
    "consent-purge-expired-provision-records": _at(
        "consent.tasks.purge_expired_provision_records", minute=7, hour=4
    ),
    # The provision records' monthly partitions (README, "Partitioning"), months ahead.
    "consent-maintain-provision-record-partitions": _at(
        "consent.tasks.maintain_provision_record_partitions", minute=13, hour=4
    ),
    # The coin entries' monthly partitions (README, "Partitioning"), months ahead.
    "federation-maintain-coin-entry-partitions": _at(
        "federation.tasks.maintain_coin_entry_partitions", minute=25, hour=4
    ),
    # The consent events' monthly partitions, months ahead; none is ever dropped.
    "consent-maintain-consent-event-partitions": _at(
        "consent.tasks.maintain_consent_event_partitions", minute=29, hour=4
    ),
    "consent-verify-chains": _at("consent.tasks.verify_consent_chains", minute=31, hour=2),
    # 00:05 in Japan; beat counts in UTC.
    "federation-expire-agreements": _at("federation.tasks.expire_agreements", minute=5, hour=15),
    "federation-release-pending-coins": _at("federation.tasks.release_pending_coins", minute=9),
    # 00:15 in Japan: a lot that expires on a day expires at its start.
    "federation-expire-coins": _at("federation.tasks.expire_coins", minute=15, hour=15),
    # 00:35 in Japan: fees whose review period ended by then go into that day's settlement.
    "federation-lock-referral-fees": _at("federation.tasks.lock_referral_fees", minute=35, hour=15),
    # 03:45 in Japan, before the purge: the clicks' monthly partitions (README,
    # "Partitioning"), months ahead, and expired months no conversion names dropped whole.
    "federation-maintain-referral-click-partitions": _at(
        "federation.tasks.maintain_referral_click_partitions", minute=45, hour=18
    ),
    # 03:55 in Japan: clicks past their retention period (SANPO_REFERRAL_CLICK_RETENTION_DAYS).
    "federation-purge-referral-clicks": _at(
        "federation.tasks.purge_referral_clicks", minute=55, hour=18
    ),
    "federation-expire-coin-holds": _at("federation.tasks.expire_coin_holds", minute="*"),
    # 00:25 in Japan: a campaign ends with its last day.
    "federation-close-ended-campaigns": _at(
        "federation.tasks.close_ended_campaigns", minute=25, hour=15
    ),
    # Every 20 minutes; the first run after midnight in Japan completes yesterday.
    "federation-refresh-metrics-rollups": _at(
        "federation.tasks.refresh_metrics_rollups", minute="2,22,42"
    ),
    "partners-relay-outbox": _at("partners.tasks.relay_outbox", minute="*"),
    "partners-purge-sent-outbox": _at("partners.tasks.purge_sent_outbox", minute=47, hour=4),
    # Webhook deliveries: months ahead, and those past SANPO_WEBHOOK_DELIVERY_RETENTION_DAYS.
    "partners-retain-webhook-deliveries": _at(
        "partners.tasks.retain_webhook_deliveries", minute=19, hour=4
    ),
    "partners-requeue-stalled-webhook-deliveries": _at(
        "partners.tasks.requeue_stalled_webhook_deliveries", minute="*/5"
    ),
}


@setup_logging.connect
def _log_through_django_settings(**kwargs: Any) -> None:
    """Workers and beat log through ``settings.LOGGING`` (LOG_FORMAT, LOG_LEVEL, the request
    id), which Django's setup has applied: a receiver of this signal tells Celery to leave the
    logging alone, neither adding its own handler nor setting the root level (``--loglevel``)."""
