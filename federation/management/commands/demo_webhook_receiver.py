"""A webhook receiver for the demo, on loopback: it verifies each delivery's signature with the
secret of the endpoint registered at the URL it was sent to, logs the event and answers 204
(401 when the signature does not verify). ``make run`` starts it in the background; it is what
``seed_demo_alliance``'s endpoints and the README's webhook example point at.

Development only: it reads the signing secrets from Sanpo's database, which a real receiver
never can; a real one keeps the secret it was shown once.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from partners.models import WebhookEndpoint
from partners.services import webhook_signing_secrets
from partners.signing import verify_signature

# Logged through the project's LOGGING (LOG_LEVEL), so make run shows each event.
logger = logging.getLogger("sanpo.demo_webhook_receiver")
MAX_BODY_BYTES = 1_048_576


def signature_verifies(url: str, headers: Any, body: bytes) -> bool:
    """True when the ``Sanpo-Signature`` verifies under a live secret of an endpoint
    registered at ``url``."""
    header, event_id = headers.get("Sanpo-Signature", ""), headers.get("Sanpo-Event-Id", "")
    for endpoint in WebhookEndpoint.objects.filter(url=url):
        for secret in webhook_signing_secrets(endpoint=endpoint):
            if verify_signature(secret=secret, header=header, event_id=event_id, body=body):
                return True
    return False


class DemoReceiver(BaseHTTPRequestHandler):
    server_version = "SanpoDemoReceiver"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY_BYTES))
        url = f"http://{self.headers.get('Host', '')}{self.path}"
        try:
            verified = signature_verifies(url, self.headers, body)
        finally:
            # Each request has a thread of its own, and with it a connection: close it, or
            # it outlives the thread (and a test database could not be dropped).
            connections.close_all()
        event = self.headers.get("Sanpo-Event-Type", "?")
        if verified:
            logger.info(
                "%s %s verified (event %s)", self.path, event, self.headers["Sanpo-Event-Id"]
            )
            self.send_response(204)
        else:
            logger.warning("%s %s: the signature does not verify", self.path, event)
            self.send_response(401)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Each event is logged once, above; http.server's access line would repeat it."""


def make_server(port: int) -> ThreadingHTTPServer:
    """The receiver on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    server = ThreadingHTTPServer(("127.0.0.1", port), DemoReceiver)
    server.daemon_threads = True
    return server


class Command(BaseCommand):
    help = "Receive the demo's webhooks on 127.0.0.1, verify their signatures and log them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANPO_WEBHOOK_ALLOW_LOOPBACK:
            raise CommandError(
                "Sanpo sends nothing to loopback unless SANPO_WEBHOOK_ALLOW_LOOPBACK=true."
            )
        server = make_server(options["port"])
        self.stdout.write(f"Demo webhook receiver on http://127.0.0.1:{options['port']}/<slug>")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
