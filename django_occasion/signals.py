from __future__ import annotations

from django.dispatch import Signal

#: Sent after each successful refresh of the product catalogue, with
#: ``result``: a :class:`django_occasion.services.RefreshResult` that says
#: what was added, removed and changed.
catalogue_refreshed = Signal()
