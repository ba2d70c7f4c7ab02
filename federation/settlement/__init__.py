"""Settlement between the companies: periods of an alliance, the who-owes-whom lines read from
the coin ledger's lineage (``CoinLotUse``, ``CoinClawback``, expiry), each company's statement
and net position through the host, disputes and the adjustments they lead to.

The computation (``services.computation``) is set-based: a few GROUP BY queries over the
period's ledger rows, then arithmetic on the aggregates (companies squared, never entries).
Issued statements can never change: the services refuse it and PostgreSQL refuses an UPDATE or
DELETE of an issued statement (migration ``0008_settlement``).
"""
