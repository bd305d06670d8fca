from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def occasion_mode(request: HttpRequest) -> dict[str, Any]:
    return {
        "occasion_demo": settings.OCCASION_DEMO,
        "occasion_demo_outage": settings.OCCASION_DEMO_OUTAGE,
    }
