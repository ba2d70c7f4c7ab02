from celery import shared_task

from consent.services import (
    chains_verify_all,
    consent_event_partitions_maintain,
    provision_partitions_maintain,
    provision_records_purge,
    withdrawals_resend_unacknowledged,
)


@shared_task
def resend_unacknowledged_withdrawals() -> int:
    return withdrawals_resend_unacknowledged()


@shared_task
def purge_expired_provision_records() -> int:
    return provision_records_purge()


@shared_task
def maintain_provision_record_partitions() -> dict[str, list[str]]:
    """Daily: next months' partitions made ahead of time, expired months dropped."""
    return provision_partitions_maintain()._asdict()


@shared_task
def maintain_consent_event_partitions() -> list[str]:
    """Daily: next months' partitions of the consent events made ahead of time."""
    return consent_event_partitions_maintain()


@shared_task
def verify_consent_chains() -> int:
    """Nightly: verify every chain and record the run; returns how many are broken."""
    return len(chains_verify_all().breaks)
