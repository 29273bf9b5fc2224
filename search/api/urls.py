"""Routes of the search API (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, re_path

from access.api.urls import CASE
from search.api import views

app_name = "search-api"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(rf"^{CASE}/search/$", views.CaseSearchView.as_view(), name="case-search"),
    re_path(rf"^{CASE}/timeline/$", views.CaseTimelineView.as_view(), name="case-timeline"),
    re_path(r"^search/$", views.CrossCaseSearchView.as_view(), name="cross-case-search"),
]
