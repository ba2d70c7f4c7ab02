"""Agreement tasks: the daily expiry. Task names are kept from before the domains split, so
messages already queued and beat's schedule still find them."""

from celery import shared_task

from federation.agreements.services import agreements_expire


@shared_task(name="federation.tasks.expire_agreements")
def expire_agreements() -> int:
    """Daily: mark agreements whose terms ran out as expired and tell their parties."""
    return agreements_expire()
