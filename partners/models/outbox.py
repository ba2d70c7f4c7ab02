"""The transactional outbox: work a change queues for Celery, written in the change's own
transaction, so that committed work is never lost between the commit and the broker."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.request_ids import MAX_LENGTH as REQUEST_ID_MAX_LENGTH


class OutboxMessage(models.Model):
    """A task to queue (its registered name and arguments): sent once it reached the broker,
    by the committing process right after the commit or, failing that, by the relay."""

    id = models.BigAutoField(primary_key=True)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("relay attempts"), default=0)
    # The id of the request that queued it (partners.request_ids), so that the relay publishes
    # a late message under that id too; blank when no request queued it (a periodic task).
    request_id = models.CharField(
        _("request ID"), max_length=REQUEST_ID_MAX_LENGTH, blank=True, default=""
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="partners_outbox_unsent",
            ),
            models.Index(fields=["sent_at"], name="partners_outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"
