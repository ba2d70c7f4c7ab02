from celery import shared_task

from consent.services import provision_records_purge, withdrawals_resend_unacknowledged


@shared_task
def resend_unacknowledged_withdrawals() -> int:
    return withdrawals_resend_unacknowledged()


@shared_task
def purge_expired_provision_records() -> int:
    return provision_records_purge()
