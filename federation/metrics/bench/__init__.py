"""The metrics benchmark (``manage.py bench_metrics``): an alliance's year of ledger loaded in
SQL, the rollups refreshed, the API timed against plain SQL aggregates of the raw tables."""
