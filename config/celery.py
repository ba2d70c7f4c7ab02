"""The Celery application.

Every periodic schedule of the project lives here, in one place, so an operator reading this
file knows everything beat will start.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sanpo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "partners-purge-idempotency-keys": {
        "task": "partners.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "partners-fail-abandoned-member-imports": {
        "task": "partners.tasks.fail_abandoned_member_imports",
        "schedule": crontab(minute=41, hour=3),
    },
    "partners-merge-persons-split-by-a-race": {
        "task": "partners.tasks.merge_persons_split_by_a_race",
        "schedule": crontab(minute="*/10"),
    },
    "consent-resend-unacknowledged-withdrawals": {
        "task": "consent.tasks.resend_unacknowledged_withdrawals",
        "schedule": crontab(minute=23),
    },
    "consent-purge-expired-provision-records": {
        "task": "consent.tasks.purge_expired_provision_records",
        "schedule": crontab(minute=7, hour=4),
    },
    "consent-verify-chains": {
        "task": "consent.tasks.verify_consent_chains",
        "schedule": crontab(minute=31, hour=2),
    },
    "federation-expire-agreements": {
        "task": "federation.tasks.expire_agreements",
        "schedule": crontab(minute=5, hour=15),  # 00:05 in Japan; beat counts in UTC
    },
    "partners-requeue-stalled-webhook-deliveries": {
        "task": "partners.tasks.requeue_stalled_webhook_deliveries",
        "schedule": crontab(minute="*/5"),
    },
}
