from __future__ import annotations

from django.urls import include, path

from . import handwritten

urlpatterns = [
    path("products/", include("django_occasion.urls")),
    path("handwritten/", handwritten.product_list, name="handwritten_product_list"),
]
