"""Routes of the captures API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver

app_name = "captures-api"

urlpatterns: list[URLPattern | URLResolver] = []
