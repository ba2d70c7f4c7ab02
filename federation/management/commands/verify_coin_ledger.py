"""Verify the coin ledger: every account's balance and version against its entries, every
transaction's entries summing to zero. Exit status 1 on the first mismatch."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from federation.coins.models import CoinAccount, CoinTransaction
from federation.coins.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check that every coin account equals its entries and every transaction balances."

    def handle(self, *args: Any, **options: Any) -> None:
        mismatch = ledger_verify()
        if mismatch is not None:
            raise CommandError(
                f"Coin ledger mismatch: {mismatch.what} of {mismatch.key}: "
                f"expected {mismatch.expected}, found {mismatch.found}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Coin ledger verified: {CoinAccount.objects.count():,} accounts, "
                f"{CoinTransaction.objects.count():,} transactions balance."
            )
        )
