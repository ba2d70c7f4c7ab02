"""What the federation's domains share that is no domain's own: the plumbing of their
endpoints (``api``) and of their console pages (``admin``), on top of the partners kernel.
The services share ``federation.audit.audit``; each domain's services name their writes in
their ``__all__``, which ``federation.services`` gathers.

Agreements and every domain above stand on it, and it knows none of them (import-linter,
``federation-domains``): a domain that arrives (coins, settlement, referrals, campaigns,
metrics) finds here what the others already use, rather than in another domain. Such a domain
brings its room (models, services, selectors, access, api, admin, tasks, and a
``registrations`` module for what it adds to the registries below), and one line in each index:
``federation/models.py``, ``services.py``, ``tasks.py``, ``admin.py``, ``urls.py``, the domains
``FederationConfig.ready`` registers, and the import-linter contracts (``federation-domains``,
``federation-doors``, ``acyclic``) in pyproject.toml.
"""
