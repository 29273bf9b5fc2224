"""Routes of the search API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver

app_name = "search-api"

urlpatterns: list[URLPattern | URLResolver] = []
