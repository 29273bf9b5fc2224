"""A URL configuration with the other portal areas' pages installed (as they will be after the merge), to
test that navigation and case links appear once their pages exist. The views answer 200 and nothing else."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal.urls import urlpatterns as portal_patterns


def _page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("area page")


areas = [
    path("cases/<str:number>/", _page, name="case_detail"),
    path("support/", _page, name="support-home"),
    path("cases/<str:number>/support/", _page, name="support-case"),
    path("prosecutor/", _page, name="prosecutor_home"),
    path("prosecutor/cases/<str:number>/", _page, name="prosecutor_case"),
]

urlpatterns = [
    path("", include((portal_patterns + areas, "portal"), namespace="portal")),
    path("i18n/", include("django.conf.urls.i18n")),
]
