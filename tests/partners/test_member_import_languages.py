"""Member imports speak their uploader's language: row errors and the reason a file was refused
are written in the language of the person who uploaded it, whichever worker runs the job; the
error report's header is in the language of whoever downloads it (UTF-8 with a BOM)."""

import codecs
import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from partners import services
from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberImport, Partner
from partners.services import member_import_jobs

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
BAD_CSV = (
    "member_number,kind,name,email,phone\n"
    "C-1,household,Ichiro Suzuki,ichiro@example.test,\n"
    "C-2,household,Hanako Sato,hanako-at-example,0312\n"
    "C-3,club,Jiro Tanaka,,\n"
)


def _client(user: User, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def _upload(client: Client, partner: Partner, content: bytes, capture: Any) -> MemberImport:
    with capture(execute=True):
        response = client.post(
            "/admin/partners/memberimport/add/",
            {
                "partner": str(partner.pk),
                "file": SimpleUploadedFile("members.csv", content, "text/csv"),
                "format": "",
                "encoding": "auto",
                "mode": "upsert",
            },
        )
    assert response.status_code == 302
    return MemberImport.objects.latest("created_at")


def _report(response: Any) -> list[list[str]]:
    body = response.getvalue()
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.usefixtures("eager_celery")
def test_row_errors_are_in_the_uploader_language_and_the_header_in_the_reader(
    alliance_manager: User, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    japanese = _client(alliance_manager, "ja")
    job = _upload(japanese, partner, BAD_CSV.encode(), django_capture_on_commit_callbacks)

    assert job.language == "ja"
    assert job.status == MemberImport.Status.REJECTED
    url = f"/admin/partners/memberimport/{job.pk}/errors/"
    read_in_japanese = _report(japanese.get(url))
    read_in_english = _report(_client(alliance_manager, "en").get(url))

    assert read_in_japanese[0] == ["行", "列", "コード", "メッセージ"]
    assert read_in_english[0] == ["line", "column", "code", "message"]
    assert read_in_japanese[1:] == read_in_english[1:]  # the uploader's messages, as written
    rows = read_in_japanese[1:]
    assert [row[:3] for row in rows] == [
        ["3", "email", "invalid_email"],
        ["3", "phone", "invalid_phone"],
        ["4", "kind", "invalid_choice"],
    ]
    assert all(JAPANESE.search(row[3]) for row in rows), rows
    assert "hanako-at-example" not in str(rows)  # never the rejected values


@pytest.mark.usefixtures("eager_celery")
def test_the_same_file_uploaded_in_english_reports_in_english(
    alliance_manager: User, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    english = _client(alliance_manager, "en")
    job = _upload(english, partner, BAD_CSV.encode(), django_capture_on_commit_callbacks)

    rows = _report(english.get(f"/admin/partners/memberimport/{job.pk}/errors/"))[1:]

    assert job.language == "en"
    assert rows[0][3] == "This is not an e-mail address."
    assert not any(JAPANESE.search(row[3]) for row in rows)


@pytest.mark.usefixtures("eager_celery")
def test_a_refused_file_says_why_in_the_uploader_language(
    alliance_manager: User, partner: Partner, django_capture_on_commit_callbacks: Any
) -> None:
    japanese = _client(alliance_manager, "ja")
    job = _upload(japanese, partner, b"name,email\nx,y\n", django_capture_on_commit_callbacks)

    assert job.status == MemberImport.Status.FAILED
    assert JAPANESE.search(job.failure), job.failure
    assert "member_number" in job.failure  # the column names stay as the file spells them
    page = japanese.get(f"/admin/partners/memberimport/{job.pk}/change/").content.decode()
    assert job.failure in page
    assert "拒否: ファイルを読み取れず、何も取り込んでいません" in page


def test_a_worker_runs_the_job_in_its_language_not_its_own(
    alliance_manager: User, partner: Partner
) -> None:
    job = services.member_import_create(
        partner=partner,
        upload=SimpleUploadedFile("members.csv", BAD_CSV.encode()),
        original_name="members.csv",
        actor=Actor(user=alliance_manager),
        language="ja",
        enqueue=False,
    )
    with translation.override("en"):  # a worker, or a command, in another language
        services.member_import_run(job_id=job.id)

    job.refresh_from_db()
    with job.errors.open("rb") as stored:
        rows = list(csv.reader(io.StringIO(stored.read().decode("utf-8-sig"))))
    assert rows[0] == ["line", "column", "code", "message"]  # stored as identifiers
    assert all(JAPANESE.search(row[3]) for row in rows[1:])


def test_an_abandoned_import_is_failed_in_its_language(
    alliance_manager: User, partner: Partner
) -> None:
    job = services.member_import_create(
        partner=partner,
        upload=SimpleUploadedFile("members.csv", BAD_CSV.encode()),
        original_name="members.csv",
        actor=Actor(user=alliance_manager),
        language="ja",
        enqueue=False,
    )
    MemberImport.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - member_import_jobs.ABANDONED_AFTER - timedelta(hours=1)
    )

    with translation.override("en"):
        assert member_import_jobs.member_import_fail_abandoned() == 1

    job.refresh_from_db()
    assert job.failure == "放置: この取り込みは7日間再開されませんでした。"


def test_a_job_needs_a_language_the_service_speaks(partner: Partner) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.member_import_create(
            partner=partner,
            upload=SimpleUploadedFile("members.csv", BAD_CSV.encode()),
            original_name="members.csv",
            actor=Actor.system(),
            language="fr",
            enqueue=False,
        )
    assert set(refused.value.fields) == {"language"}
    assert not MemberImport.objects.exists()
