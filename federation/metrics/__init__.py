"""Metrics that prove the alliance works: measured lift of a programme against its holdout
(``federation.holdouts``), and the alliance's and each company's figures over time.

It reads the ledger, reactivations, referrals, campaigns and member bases and writes nothing
but its own results: daily rollups (``ActivityDay``) refreshed set-based by a beat task, and
the lift of finished periods (``LiftResult``), which no later posting can change. The API and
the console answer from those."""
