"""The shared coin: a double-entry ledger of whole coins between members' wallets and the
companies that fund, redeem and expire them.

The ledger (``models``, ``services.ledger``) is the bottom of this domain: accounts whose balance
and version live on their own row, transactions of two or more entries that sum to zero, and
entries that can never change. PostgreSQL enforces both rules itself (see migration
``0005_coin_ledger``); the services keep them on every database.
"""
