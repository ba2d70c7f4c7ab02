"""The coin ledger's benchmark (``manage.py bench_coin_ledger``): postings against a raw-SQL
baseline kept here (``baseline.sql``), at several concurrent clients, on PostgreSQL."""
