"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path

from portal.views import auth, dashboard, exhibits, ingest, prosecutor

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    # --- work: ingest ---
    path("cases/<str:number>/ingest/", ingest.ingest_page, name="ingest"),
    path("cases/<str:number>/ingest/upload/", ingest.ingest_upload, name="ingest_upload"),
    path("acquisitions/<int:pk>/progress/", ingest.ingest_progress, name="ingest_progress"),
    # --- work: exhibits, reports, export bundles ---
    path("cases/<str:number>/exhibits/", exhibits.exhibit_list, name="exhibit_list"),
    path("cases/<str:number>/exhibits/new/", exhibits.exhibit_create, name="exhibit_create"),
    path("cases/<str:number>/exhibits/items/", exhibits.exhibit_item_search, name="exhibit_item_search"),
    path("cases/<str:number>/exhibits/<str:exhibit>/", exhibits.exhibit_detail, name="exhibit_detail"),
    path("cases/<str:number>/exhibits/<str:exhibit>/edit/", exhibits.exhibit_edit, name="exhibit_edit"),
    path(
        "cases/<str:number>/exhibits/<str:exhibit>/request-approval/",
        exhibits.exhibit_request_approval,
        name="exhibit_request_approval",
    ),
    path(
        "cases/<str:number>/exhibits/<str:exhibit>/approve/", exhibits.exhibit_approve, name="exhibit_approve"
    ),
    path("cases/<str:number>/exhibits/<str:exhibit>/share/", exhibits.exhibit_share, name="exhibit_share"),
    path(
        "cases/<str:number>/exhibits/<str:exhibit>/withdraw/",
        exhibits.exhibit_withdraw,
        name="exhibit_withdraw",
    ),
    path("cases/<str:number>/reports/new/", exhibits.report_create, name="report_create"),
    path("cases/<str:number>/reports/<int:pk>/", exhibits.report_detail, name="report_detail"),
    path("cases/<str:number>/reports/<int:pk>/download/", exhibits.report_download, name="report_download"),
    path("cases/<str:number>/bundles/new/", exhibits.bundle_create, name="bundle_create"),
    path("cases/<str:number>/bundles/<int:pk>/", exhibits.bundle_detail, name="bundle_detail"),
    path("cases/<str:number>/bundles/<int:pk>/download/", exhibits.bundle_download, name="bundle_download"),
    # --- work: prosecutor ---
    path("prosecutor/", prosecutor.prosecutor_home, name="prosecutor_home"),
    path("prosecutor/cases/<str:number>/", prosecutor.prosecutor_case, name="prosecutor_case"),
    path("prosecutor/verify/", prosecutor.prosecutor_verify, name="prosecutor_verify"),
]
