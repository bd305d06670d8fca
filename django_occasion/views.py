"""Class-based views over the service layer, shaped like Django's generic views."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.views.generic import FormView, ListView, TemplateView

from . import services
from .conf import app_settings
from .domain import Merchant, Product, Question, TimeSlot, Venue
from .exceptions import InvalidDocument, InvalidQuery, NotFound, OccasionError
from .forms import PriceQuoteForm

logger = logging.getLogger(__name__)


class OccasionViewMixin:
    """Turns Occasion failures into the right answers instead of a 500.

    An unknown product is a 404, a bad filter a 400, and an Occasion that
    cannot be reached with nothing cached a 503 rendered from
    ``unavailable_template_name``.
    """

    unavailable_template_name = "django_occasion/unavailable.html"
    #: Seconds for the 503's ``Retry-After``; ``None``: OCCASION_FAILURE_BACKOFF.
    unavailable_retry_after: int | None = None
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
        retry_after = self.unavailable_retry_after
        if retry_after is None:
            retry_after = math.ceil(app_settings.FAILURE_BACKOFF)
        response["Retry-After"] = str(retry_after)
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


# Paginator is generic only in django-stubs, not at run time.
class ProductPaginator(Paginator):  # type: ignore[type-arg]
    """A ``Paginator`` whose pages read their products only when first used.

    Over a :class:`~django_occasion.services.ProductListing`, a page's
    ``object_list`` is a :class:`~django_occasion.services.ProductSlice`:
    counting pages needs only the listing's manifest, and the products are
    read when the template first iterates or counts them. A page whose list
    is served from the template fragment cache reads no product at all.
    """

    def page(self, number: int | str) -> Page[Product]:
        listing = self.object_list
        if not isinstance(listing, services.ProductListing):
            return super().page(number)
        # The bounds Paginator.page computes, without slicing (reading) yet.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        # _get_page is Django's documented hook for a Page subclass; the
        # stubs leave it out.
        page: Page[Product] = self._get_page(  # type: ignore[attr-defined]
            services.ProductSlice(listing, bottom, top), number, self
        )
        return page


# ListView is typed for querysets of models; this one pages API products.
class ProductListView(OccasionViewMixin, ProductListMixin, ListView):  # type: ignore[type-arg,misc]
    """A paginated list of products (``?page=N``).

    The list and its page links are rendered once per generation of the
    listing, filters, page, page size, language and URL, and then served
    from the template fragment cache (``{% cache %}`` in the app's cache,
    for ``OCCASION_CACHE_TIMEOUT``) without reading any product. Set
    ``cache_fragment = False`` if your ``product_card.html`` shows anything
    that differs between visitors.

    Context: ``products`` (this page's :class:`~django_occasion.domain.Product`
    objects, read on first use), ``page_obj``, ``paginator``,
    ``is_paginated``, ``filters``, ``listing`` (with ``generation``,
    ``fetched_at`` and ``is_stale``), and ``occasion_cache_alias`` and
    ``occasion_cache_timeout`` for the fragment cache (the alias is ``None``
    when the list is not to be cached).
    """

    template_name = "django_occasion/product_list.html"
    context_object_name = "products"
    paginator_class = ProductPaginator
    cache_fragment = True

    def get_paginate_by(self, queryset: Any) -> int:
        return self.paginate_by or app_settings.PAGE_SIZE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filters"] = self.get_filters()
        context["listing"] = self.object_list
        # Only a listing of the cache has a generation to key the fragment on;
        # a get_queryset() returning anything else is rendered every time.
        # Nor is a filter that matches nothing worth a fragment: visitors
        # could otherwise fill the cache with one per made-up ?venue= value.
        listing = self.object_list
        cached = (
            self.cache_fragment
            and isinstance(listing, services.ProductListing)
            and listing.filter_key in listing.manifest.counts
        )
        context["occasion_cache_alias"] = app_settings.CACHE_ALIAS if cached else None
        context["occasion_cache_timeout"] = app_settings.CACHE_TIMEOUT
        return context


class ProductDetailMixin:
    """Looks up one product by the ``product_id`` URL keyword."""

    product_url_kwarg = "product_id"
    kwargs: dict[str, Any]

    def get_object(self) -> Product:
        return services.get_product(self.kwargs[self.product_url_kwarg])


class ProductBookingMixin:
    """What a product page shows beside the product itself.

    The venue (with country and state), the merchant (with currency) and the
    next ``time_slots_limit`` time slots of ``time_slots_status``. None of it
    can break the page: the venue and merchant fall back to the listing's
    copies, and time slots that cannot be fetched become an empty list with
    ``time_slots_unavailable`` set.
    """

    time_slots_limit = 5
    time_slots_status = "bookable"

    def get_venue(self, product: Product) -> Venue | None:
        return services.venue_of(product)

    def get_merchant(self, product: Product) -> Merchant | None:
        return services.merchant_of(product)

    def get_time_slots(
        self, product: Product, time_zone: str | None = None
    ) -> list[TimeSlot] | None:
        """The product's next time slots; ``None`` if Occasion cannot say."""
        if not product.is_bookable and self.time_slots_status == "bookable":
            return []
        try:
            return services.list_time_slots(
                product.id,
                status=self.time_slots_status,
                limit=self.time_slots_limit,
                time_zone=time_zone,
            )
        except OccasionError as exc:
            logger.warning(
                "Occasion time slots of product %s unavailable: %s", product.id, exc
            )
            return None

    def get_booking_context(self, product: Product) -> dict[str, Any]:
        venue = self.get_venue(product)
        merchant = self.get_merchant(product)
        time_zone = (venue and venue.time_zone) or (merchant and merchant.time_zone)
        time_slots = self.get_time_slots(product, time_zone or None)
        return {
            "venue": venue,
            "merchant": merchant,
            "time_slots": time_slots or [],
            "time_slots_unavailable": time_slots is None,
        }


class ProductDetailView(
    OccasionViewMixin, ProductDetailMixin, ProductBookingMixin, TemplateView
):
    """One product.

    Context: ``product``, ``venue``, ``merchant``, ``time_slots`` (the next
    bookable :class:`~django_occasion.domain.TimeSlot` objects) and
    ``time_slots_unavailable``.
    """

    template_name = "django_occasion/product_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        product = self.get_object()
        context["product"] = product
        context.update(self.get_booking_context(product))
        return context


class PriceQuoteView(OccasionViewMixin, ProductDetailMixin, FormView):  # type: ignore[type-arg]
    """Prices one order of a product: its questions and an optional code.

    GET shows the form; POST checks the coupon or gift card code and asks
    Occasion for a price (never cached). Answers ``400`` with the form's
    errors for bad input (a malformed code, answers Occasion rejects),
    ``409`` for a product that takes no bookings and ``503`` when Occasion
    cannot price the order. Context: ``product``, ``merchant``, ``form``,
    ``quote`` (a :class:`~django_occasion.domain.PriceQuote`), ``redeemable``
    (the code's :class:`~django_occasion.domain.RedeemableResult`),
    ``questions_unavailable``, ``quote_unavailable`` and ``not_bookable``.
    """

    template_name = "django_occasion/price_quote.html"
    form_class = PriceQuoteForm
    invalid_status = 400
    _product: Product | None = None
    _questions: list[Question] | None = None
    _questions_read = False

    def get_object(self) -> Product:
        if self._product is None:
            self._product = super().get_object()
        return self._product

    def get_questions(self) -> list[Question] | None:
        """The product's questions; ``None`` if Occasion cannot say."""
        # Asked once a request, failed or not: the form and the template
        # both want the answer.
        if not self._questions_read:
            self._questions_read = True
            product = self.get_object()  # an unknown product is a 404
            try:
                self._questions = services.get_questions(product.id)
            except OccasionError as exc:
                logger.warning(
                    "Occasion questions of %s unavailable: %s", self.request.path, exc
                )
        return self._questions

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["questions"] = self.get_questions() or []
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        product = self.get_object()
        kwargs.setdefault("quote", None)
        kwargs.setdefault("redeemable", None)
        kwargs.setdefault("quote_unavailable", False)
        kwargs.setdefault("not_bookable", not product.is_bookable)
        context = super().get_context_data(**kwargs)
        context["product"] = product
        context["merchant"] = services.merchant_of(product)
        context["questions_unavailable"] = self.get_questions() is None
        return context

    def form_invalid(self, form: PriceQuoteForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(form=form), status=self.invalid_status
        )

    def form_valid(self, form: PriceQuoteForm) -> HttpResponse:
        product = self.get_object()
        if not product.is_bookable:
            return self.render_to_response(self.get_context_data(form=form), status=409)
        try:
            quote = services.quote_price(
                product.id, form.answers, form.cleaned_data["coupon_code"] or None
            )
        except InvalidDocument as exc:
            for messages in exc.field_errors.values():
                for message in messages:
                    form.add_error(None, message)
            return self.form_invalid(form)
        except InvalidQuery as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        except OccasionError as exc:
            logger.warning("Occasion could not price %s: %s", self.request.path, exc)
            return self.render_to_response(
                self.get_context_data(form=form, quote_unavailable=True), status=503
            )
        return self.render_to_response(
            self.get_context_data(form=form, quote=quote, redeemable=quote.redeemable)
        )
