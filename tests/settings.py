"""Django settings for the test suite."""

from __future__ import annotations

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django_occasion",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "tests.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "django-occasion-tests",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"]
        },
    }
]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

OCCASION_API_LOGIN = "test-login"
OCCASION_API_SECRET = "test-secret-never-shown"
OCCASION_API_URL = "https://occasion.test/api/v1"
# The suite talks to ``responses`` and local servers; retries would only slow
# the tests that do not ask for them.
OCCASION_MAX_RETRIES = 0
# LocMem is process-local on purpose here; the check that warns about it has
# its own tests.
SILENCED_SYSTEM_CHECKS = ["django_occasion.W001"]
