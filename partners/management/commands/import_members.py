import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partners.actors import Actor
from partners.errors import ApplicationError
from partners.models import MemberImport, Partner
from partners.services.member_import import member_import_create, member_import_run


class ProgressBar:
    """One line on stderr, redrawn at most a few times a second: bytes read, rows, speed."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0
        self.interactive = stream.isatty()

    def __call__(self, job: MemberImport) -> None:
        now = time.monotonic()
        if not job.is_finished and now - self.drawn < (0.2 if self.interactive else 5):
            return
        self.drawn = now
        width = 30
        filled = width * job.progress_percent // 100
        rate = job.lines_done / max(now - self.started, 1e-6)
        line = (
            f"[{'#' * filled}{'-' * (width - filled)}] {job.progress_percent:3d}% "
            f"{job.lines_done:,} lines, {job.rows_staged:,} rows staged, {rate:,.0f} lines/s"
        )
        end = "\n" if job.is_finished or not self.interactive else ""
        self.stream.write(("\r" if self.interactive else "") + line + end)
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import a member base file (CSV or JSON Lines) into a partner's member accounts. "
        "Re-running a file changes nothing; --resume continues a run that crashed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner", nargs="?", help="The partner's slug.")
        parser.add_argument("path", nargs="?", help="The file to import.")
        parser.add_argument("--format", choices=MemberImport.Format.values)
        parser.add_argument("--encoding", default="auto", help="auto, utf-8 or shift_jis")
        parser.add_argument("--mode", choices=MemberImport.Mode.values, default="upsert")
        parser.add_argument(
            "--skip-invalid-rows",
            action="store_true",
            help="Import the valid rows even if some rows have errors.",
        )
        parser.add_argument("--resume", metavar="JOB_ID", help="Resume an interrupted import.")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = ProgressBar(sys.stderr)
        try:
            if options["resume"]:
                job = member_import_run(job_id=options["resume"], progress=progress)
            else:
                job = self._start(options, progress)
        except (ApplicationError, MemberImport.DoesNotExist) as error:
            raise CommandError(str(error)) from None
        self._report(job)

    def _start(self, options: dict[str, Any], progress: ProgressBar) -> MemberImport:
        if not options["partner"] or not options["path"]:
            raise CommandError("Give a partner slug and a file path (or --resume JOB_ID).")
        partner = Partner.objects.filter(slug=options["partner"]).first()
        if partner is None:
            raise CommandError(f"No partner with slug {options['partner']!r}.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as upload:
            job = member_import_create(
                partner=partner,
                upload=upload,
                original_name=path.name,
                actor=Actor.system(),
                format=options["format"],
                encoding=options["encoding"],
                mode=options["mode"],
                skip_invalid_rows=options["skip_invalid_rows"],
                language="en",  # the language of this command's own report
                enqueue=False,
            )
        self.stdout.write(f"Import {job.id}: {job.file_size:,} bytes, sha256 {job.file_sha256}")
        return member_import_run(job_id=job.id, progress=progress)

    def _report(self, job: MemberImport) -> None:
        self.stdout.write(f"Import {job.id}: {job.get_status_display()}")
        if job.status == MemberImport.Status.FAILED:
            raise CommandError(job.failure)
        self.stdout.write(
            f"  created {job.rows_created:,}, updated {job.rows_updated:,}, "
            f"unchanged {job.rows_unchanged:,}, invalid rows {job.rows_invalid:,}, "
            f"new persons {job.persons_linked:,}"
        )
        if job.started_at and job.staged_at and job.finished_at:
            staging = (job.staged_at - job.started_at).total_seconds()
            applying = (job.finished_at - job.staged_at).total_seconds()
            self.stdout.write(f"  read and staged in {staging:.1f} s, applied in {applying:.1f} s")
        if job.errors:
            self.stdout.write(f"  row errors: {job.errors.path}")
        if job.status == MemberImport.Status.REJECTED:
            raise CommandError(
                f"{job.rows_invalid:,} row(s) have errors, so nothing was imported; fix them or "
                "re-run with --skip-invalid-rows. The error file lists each by line number."
            )
