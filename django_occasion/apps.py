from __future__ import annotations

from django.apps import AppConfig


class OccasionConfig(AppConfig):
    name = "django_occasion"
    verbose_name = "Occasion"

    def ready(self) -> None:
        from . import checks, services  # noqa: F401  (registers checks, signals)
