from celery import shared_task

from federation.services import agreements_expire


@shared_task
def expire_agreements() -> int:
    """Daily: mark agreements whose terms ran out as expired and tell their parties."""
    return agreements_expire()
