"""The referral benchmark (``manage.py bench_referrals``): clicks through ``/r/<token>`` under
gunicorn against a static 302 from the same server (``http``), and the funnel over a large
load against plain SQL GROUP BYs of the same tables (``load``, ``funnel``)."""
