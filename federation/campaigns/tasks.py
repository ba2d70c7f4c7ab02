"""Campaign tasks, scheduled by beat: surveys past their campaign's end date closed. Idempotent:
a second run finds nothing more to close."""

from celery import shared_task

from federation.campaigns.services import campaigns_close_ended


@shared_task(name="federation.tasks.close_ended_campaigns")
def close_ended_campaigns() -> int:
    """Close the campaigns whose end date has passed; returns how many."""
    return campaigns_close_ended()
