"""A long history for one wallet, loaded in SQL for the balance-read runs: a balanced transfer
per pair of entries, all the same, against an account of its own.

The ledger's triggers are off for the load alone (``session_replication_role``), which is
committed in chunks. The transactions' ids ascend (as time-ordered UUIDs would), so the load
appends to the id indexes instead of scattering over them (1M entries took 15 s instead of
26 s here, one run each); the balance read never touches those indexes.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction

from federation.coins.models import CoinAccount, CoinTransaction
from federation.coins.services import Leg, account_for, member_account, post
from partners.models import Partner, Person

CHUNK = 1_000_000
_ID = "(%(prefix)s || lpad(to_hex(g), 12, '0'))::uuid"
_TRANSACTIONS = f"""
INSERT INTO federation_cointransaction (id, kind, reason, reference, posted_at)
SELECT {_ID}, 'transfer', '{{}}', '', now() FROM generate_series(%(first)s, %(last)s) AS g
"""  # noqa: S608 - a constant
_ENTRIES = f"""
INSERT INTO federation_coinentry
       (transaction_id, account_id, amount, balance_after, account_version, posted_at)
SELECT {_ID}, side.account, side.amount, side.amount * g, g, now()
  FROM generate_series(%(first)s, %(last)s) AS g
 CROSS JOIN (VALUES (%(account)s::bigint, 1), (%(other)s::bigint, -1)) AS side(account, amount)
"""  # noqa: S608 - a constant


def history_load(person: Person, entries: int) -> float:
    """Give ``person``'s wallet (new, empty) ``entries`` entries, the last one posted by the
    ledger; the seconds the SQL load took."""
    wallet = member_account(person)
    if wallet.version:
        raise ValueError("The wallet has a history already.")
    issuer = Partner.objects.order_by("slug").first()
    shard = 9000 + CoinAccount.objects.filter(kind=CoinAccount.Kind.BREAKAGE).count()
    other = account_for(CoinAccount.Kind.BREAKAGE, partner=issuer, shard=shard)
    params: dict[str, Any] = {
        "prefix": f"{wallet.pk:08x}-0000-4000-8000-",
        "account": wallet.pk,
        "other": other.pk,
    }
    began = time.perf_counter()
    for first in range(1, entries + 1, CHUNK):
        last = min(first + CHUNK - 1, entries)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(_TRANSACTIONS, {**params, "first": first, "last": last})
            cursor.execute(_ENTRIES, {**params, "first": first, "last": last})
    loaded = time.perf_counter() - began
    CoinAccount.objects.filter(pk=wallet.pk).update(balance=entries, version=entries)
    CoinAccount.objects.filter(pk=other.pk).update(balance=-entries, version=entries)
    post(CoinTransaction.Kind.TRANSFER, [Leg(wallet, -1), Leg(other, 1)])
    return loaded
