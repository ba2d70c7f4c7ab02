"""The campaign benchmark's data (``load``) and what it times (``runs``): see
``manage.py bench_campaigns``."""
