from __future__ import annotations

from django.urls import path

from . import views

app_name = "django_occasion"

urlpatterns = [
    path("", views.ProductListView.as_view(), name="product_list"),
    path("<str:product_id>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("<str:product_id>/quote/", views.PriceQuoteView.as_view(), name="price_quote"),
]
