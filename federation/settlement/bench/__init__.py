"""The settlement benchmark (``manage.py bench_settlement``): a period's computation and
statements against a plain SQL GROUP BY of the same redemptions (``baseline.sql``), on a
ledger loaded in SQL, on PostgreSQL."""
