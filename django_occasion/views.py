"""Class-based views over the service layer, shaped like Django's generic views."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.views.generic import ListView, TemplateView

from . import services
from .conf import app_settings
from .domain import Product
from .exceptions import InvalidQuery, NotFound, OccasionError

logger = logging.getLogger(__name__)


class OccasionViewMixin:
    """Turns Occasion failures into the right answers instead of a 500.

    An unknown product is a 404, a bad filter a 400, and an Occasion that
    cannot be reached with nothing cached a 503 rendered from
    ``unavailable_template_name``.
    """

    unavailable_template_name = "django_occasion/unavailable.html"
    unavailable_retry_after = 60
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            # Render here, so that a failure while rendering is caught too.
            if isinstance(response, TemplateResponse):
                response.render()
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except InvalidQuery as exc:
            # The message repeats the visitor's ?status=: never serve it as HTML.
            return HttpResponseBadRequest(
                str(exc), content_type="text/plain; charset=utf-8"
            )
        except OccasionError as exc:
            return self.unavailable(exc)
        return response

    def unavailable(self, error: OccasionError) -> HttpResponse:
        logger.warning(
            "Occasion is unavailable and nothing is cached for %s: %s",
            self.request.path,
            error,
        )
        response = TemplateResponse(
            self.request,
            self.unavailable_template_name,
            {"error_kind": type(error).__name__},
            status=503,
        )
        response["Retry-After"] = str(self.unavailable_retry_after)
        return response.render()


class ProductListMixin:
    """Lists products from the cached catalogue.

    ``status`` and ``venue`` restrict the listing; with
    ``filter_from_query = True`` (the default) visitors may narrow it with
    ``?status=`` and ``?venue=`` too.
    """

    status: str | None = None
    venue: str | None = None
    filter_from_query = True
    request: HttpRequest

    def get_filters(self) -> dict[str, str | None]:
        filters = {"status": self.status, "venue": self.venue}
        if self.filter_from_query:
            for name in filters:
                value = self.request.GET.get(name, "").strip()
                if value:
                    filters[name] = value
        return filters

    def get_queryset(self) -> services.ProductListing:
        return services.list_products(**self.get_filters())


class ProductListView(OccasionViewMixin, ProductListMixin, ListView):  # type: ignore[type-arg]
    """A paginated list of products (``?page=N``).

    Context: ``products`` (this page's :class:`~django_occasion.domain.Product`
    objects), ``page_obj``, ``paginator``, ``is_paginated``, ``filters`` and
    ``listing`` (with ``fetched_at`` and ``is_stale``).
    """

    template_name = "django_occasion/product_list.html"
    context_object_name = "products"

    def get_paginate_by(self, queryset: Any) -> int:
        return self.paginate_by or app_settings.PAGE_SIZE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filters"] = self.get_filters()
        context["listing"] = self.object_list
        return context


class ProductDetailMixin:
    """Looks up one product by the ``product_id`` URL keyword."""

    product_url_kwarg = "product_id"
    kwargs: dict[str, Any]

    def get_object(self) -> Product:
        return services.get_product(self.kwargs[self.product_url_kwarg])


class ProductDetailView(OccasionViewMixin, ProductDetailMixin, TemplateView):
    """One product. Context: ``product``."""

    template_name = "django_occasion/product_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["product"] = self.get_object()
        return context
