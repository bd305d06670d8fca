"""The built-in demo: a fake Occasion API with an invented catalogue.

It lets the app, its example project and users' own tests run without an
Occasion account or a network::

    session = requests.Session()
    mount_demo(session)
    client = OccasionClient(DEMO_API_URL, DEMO_API_LOGIN, session=session)
"""

from __future__ import annotations

import requests

from ..conf import DEMO_API_URL
from .adapter import DemoAdapter

__all__ = ["DemoAdapter", "mount_demo"]


def mount_demo(session: requests.Session, *, outage: bool = False) -> None:
    """Answer every request to :data:`~django_occasion.conf.DEMO_API_URL`
    on ``session`` from the demo catalogue.

    With ``outage=True`` the demo API is down for maintenance instead.
    """
    session.mount(DEMO_API_URL, DemoAdapter(outage=outage))
