from celery import shared_task

from consent.services import withdrawals_resend_unacknowledged


@shared_task
def resend_unacknowledged_withdrawals() -> int:
    return withdrawals_resend_unacknowledged()
