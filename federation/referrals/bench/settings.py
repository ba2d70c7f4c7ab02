"""The click benchmark's server settings: production's, with one more URL, the baseline's
static 302 (``urls``). Only the benchmark starts a server with them (DJANGO_SETTINGS_MODULE),
so the baseline view can never be reached in production."""

from config.settings import *  # noqa: F403 - production's settings, one name changed

ROOT_URLCONF = "federation.referrals.bench.urls"
