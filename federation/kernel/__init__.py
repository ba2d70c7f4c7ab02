"""What the federation's domains share that is no domain's own: the plumbing of their
endpoints (``api``) and of their console pages (``admin``), on top of the partners kernel.

Agreements and every domain above stand on it, and it knows none of them (import-linter,
``federation-domains``): a domain that arrives (coins, settlement, referrals, campaigns,
metrics) finds here what the others already use, rather than in another domain.
"""
