from django.urls import include, path

urlpatterns = [
    path("products/", include("django_occasion.urls")),
]
