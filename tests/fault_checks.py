"""What every fault test checks last: the stores are consistent, by the project's own
verification commands (those an operator runs after an incident or a restore), never by a
test's private reading of the tables."""

import io

from django.core.management import call_command

# Each command exits non-zero (CommandError) on the first sign of damage.
VERIFICATIONS = (
    "verify_coin_ledger",  # sum zero, no negative wallet, balances equal to their entries
    "verify_consent_chains",  # every member's consent hash chain unbroken
    "verify_idempotency_records",  # every kept Idempotency-Key record complete
)


def assert_stores_consistent() -> None:
    """Run every verification command; a CommandError fails the test with its message, and
    the output of the command that failed is part of the failure."""
    for command in VERIFICATIONS:
        out = io.StringIO()
        try:
            call_command(command, stdout=out)
        except Exception as error:
            raise AssertionError(f"{command}: {error}\n{out.getvalue()}") from error
