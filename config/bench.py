"""A throw-away PostgreSQL database for benchmark commands, beside the configured one.

Benchmarks run in ``<database>_<suffix>``, recreated each run, so they neither need nor touch
real data; their steps run as child ``manage.py`` processes pointed at it.
"""

import os
import subprocess
import sys
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import CommandError


class BenchDatabase:
    def __init__(self, suffix: str) -> None:
        source = settings.DATABASES["default"]
        if source["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL.")
        self._source: Any = source
        self.name = f"{source['NAME']}_{suffix}"
        self.dsn = self._dsn(self.name)
        self.env = {**os.environ, "DATABASE_URL": self._url()}
        self.env.pop("CELERY_BROKER_URL", None)  # tasks run eagerly in the children

    def recreate(self) -> None:
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.name}"')

    def manage(self, *args: str, quiet: bool = True) -> None:
        """Run ``manage.py <args>`` against this database."""
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL if quiet else None,
            cwd=settings.BASE_DIR,
        )

    def _dsn(self, name: str) -> str:
        source = self._source
        return psycopg.conninfo.make_conninfo(
            dbname=name,
            user=source.get("USER") or None,
            password=source.get("PASSWORD") or None,
            host=source.get("HOST") or None,
            port=str(source.get("PORT") or "") or None,
        )

    def _url(self) -> str:
        source = self._source
        user = source.get("USER") or ""
        password = f":{source['PASSWORD']}" if source.get("PASSWORD") else ""
        at = "@" if user else ""
        port = f":{source['PORT']}" if source.get("PORT") else ""
        return f"postgres://{user}{password}{at}{source.get('HOST') or ''}{port}/{self.name}"
