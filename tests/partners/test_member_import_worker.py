"""A real Celery worker on the real broker runs a member import that Bob, the brand's partner
admin, uploaded: the job is handed over when the upload's transaction commits, and the worker
stages and applies it on PostgreSQL.

Skipped without CELERY_BROKER_URL and DATABASE_URL. As in test_webhook_worker.py the worker is
celery's testing worker in a thread of this process, so it reads the test's settings (media
root, chunk size) and writes to the test database.
"""

import io
import time
from typing import Any

import pytest
from django.db import transaction

from partners.actors import Actor
from partners.models import MemberAccount, MemberImport, Partner
from partners.services import member_import_create
from partners.services.member_records import open_member
from partners.synthetic import synthetic_members, write_csv
from tests.conftest import celery_worker

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEADLINE_SECONDS = 30
ROWS = 500


def _wait_until_finished(job: MemberImport) -> MemberImport:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.1)
    return job


def test_a_worker_runs_an_import_enqueued_when_the_upload_commits(
    partner: Partner, partner_admin: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.SANPO_IMPORT_CHUNK_ROWS = 120  # several chunks, each its own commit
    upload = io.BytesIO()
    write_csv(upload, count=ROWS, seed=11)
    upload.seek(0)

    with celery_worker():
        with transaction.atomic():
            job = member_import_create(
                partner=partner,
                upload=upload,
                original_name="brand-members.csv",
                actor=Actor(user=partner_admin),
                enqueue=True,
            )
        job = _wait_until_finished(job)

    assert job.status == MemberImport.Status.COMPLETED, (job.status, job.failure)
    assert (job.rows_staged, job.rows_created, job.rows_updated, job.rows_invalid) == (
        ROWS,
        ROWS,
        0,
        0,
    )
    assert job.lines_done == ROWS + 1
    assert job.bytes_done == job.file_size
    assert MemberAccount.objects.filter(partner=partner).count() == ROWS
    assert not MemberAccount.objects.filter(partner=partner, person__isnull=True).exists()
    first = next(synthetic_members(count=1, seed=11))
    stored = MemberAccount.objects.get(partner=partner, member_number=first["member_number"])
    assert open_member(stored)["postal_code"] == first["postal_code"]
