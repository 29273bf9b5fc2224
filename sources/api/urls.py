"""Routes of the sources API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver

app_name = "sources-api"

urlpatterns: list[URLPattern | URLResolver] = []
