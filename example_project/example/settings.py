"""Settings of the example site: everything comes from the environment.

With no ``OCCASION_API_LOGIN`` in the environment (or in ``.env`` beside
``manage.py``) the site runs on the demo catalogue built into the app.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="example-site-only-not-for-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# "example" comes first so that its django_occasion/base.html, which puts
# the app's pages in the site's layout, wins over the app's own.
INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "example",
    "django_occasion",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "example.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "example.context_processors.occasion_mode",
            ]
        },
    }
]
WSGI_APPLICATION = "example.wsgi.application"
# The site keeps no data of its own; DATABASE_URL is for the database cache
# (CACHE_URL=dbcache://occasion_cache after ``manage.py createcachetable``).
DATABASES = {"default": env.db("DATABASE_URL")} if "DATABASE_URL" in env else {}
# A cache every process shares, so that ``manage.py occasion_refresh`` warms
# what the web server reads. CACHE_URL=redis://127.0.0.1:6379/0 works too.
CACHES = {
    "default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / '.cache'}")
}
# The file and database caches cull at random past MAX_ENTRIES (300 unless
# set); the listing takes about one entry per product. Redis and Memcached
# evict by memory instead and take no such option.
if CACHES["default"]["BACKEND"].endswith(("FileBasedCache", "DatabaseCache")):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 20_000)
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

OCCASION_API_LOGIN = env.str("OCCASION_API_LOGIN", default="")
OCCASION_API_SECRET = env.str("OCCASION_API_SECRET", default="")
OCCASION_API_URL = env.str(
    "OCCASION_API_URL", default="https://app.getoccasion.com/api/v1"
)
OCCASION_MERCHANT_ID = env.str("OCCASION_MERCHANT_ID", default="") or None
OCCASION_PARTNER = env.bool("OCCASION_PARTNER", default=False)
# Demo mode is on exactly when no login is configured, and the pages say so.
OCCASION_DEMO = not OCCASION_API_LOGIN
# Simulates Occasion being down: OCCASION_DEMO_OUTAGE=1 make demo
OCCASION_DEMO_OUTAGE = env.bool("OCCASION_DEMO_OUTAGE", default=False)
OCCASION_CACHE_TIMEOUT = env.float("OCCASION_CACHE_TIMEOUT", default=300)
OCCASION_PAGE_SIZE = env.int("OCCASION_PAGE_SIZE", default=9)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_occasion": {
            "handlers": ["console"],
            "level": env.str("OCCASION_LOG_LEVEL", default="INFO"),
        }
    },
}
