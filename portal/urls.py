"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path, re_path

from portal.views import auth, cases, dashboard, evidence
from portal.views import support as support_views

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    # --- support: victim-support pages (portal/views/support.py); no media, thumbnails or content URLs ---
    path("support/", support_views.support_home, name="support-home"),
    path("cases/<str:number>/support/", support_views.support_case, name="support-case"),
    path("cases/<str:number>/support/files/<int:pk>/", support_views.support_file, name="support-file"),
    path(
        "cases/<str:number>/support/files/<int:pk>/consents/",
        support_views.consent_record,
        name="support-consent-record",
    ),
    path(
        "cases/<str:number>/support/files/<int:pk>/consents/<int:consent_id>/withdraw/",
        support_views.consent_withdraw,
        name="support-consent-withdraw",
    ),
    path("cases/<str:number>/support/files/<int:pk>/notes/", support_views.notes, name="support-notes"),
    path(
        "cases/<str:number>/support/files/<int:pk>/hash-export/",
        support_views.hash_export,
        name="support-hash-export",
    ),
    path(
        "cases/<str:number>/support/files/<int:pk>/takedowns/",
        support_views.takedown_draft,
        name="support-takedown-draft",
    ),
    path("cases/<str:number>/support/takedowns/", support_views.takedowns, name="support-takedowns"),
    path("cases/<str:number>/support/takedowns/<int:pk>/", support_views.takedown, name="support-takedown"),
    path(
        "cases/<str:number>/support/takedowns/<int:pk>/reappearances/",
        support_views.reappearance_record,
        name="support-reappearance",
    ),
    path(
        "cases/<str:number>/support/takedowns/<int:pk>/<slug:step>/",
        support_views.takedown_step,
        name="support-takedown-step",
    ),
    path("cases/<str:number>/support/overdue/", support_views.overdue, name="support-overdue"),
    # --- end support ---
    # --- cases and evidence (pcase) ---
    path("cases/new/", cases.case_create, name="case_create"),
    re_path(r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/$", cases.case_detail, name="case_detail"),
    re_path(
        r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/graph\.json$", cases.case_graph_json, name="case_graph"
    ),
    re_path(
        r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/evidence/$", cases.evidence_list, name="evidence_list"
    ),
    path("evidence/<int:pk>/", evidence.item_detail, name="evidence_detail"),
    path("evidence/<int:pk>/custody/", evidence.item_custody, name="evidence_custody"),
    path("evidence/<int:pk>/preview/", evidence.item_preview, name="evidence_preview"),
    path("evidence/<int:pk>/reveal/", evidence.item_reveal, name="evidence_reveal"),
    path("evidence/<int:pk>/original/<str:token>/", evidence.item_original, name="evidence_original"),
    path(
        "evidence/<int:pk>/findings/<int:annotation_id>/review/",
        evidence.finding_review,
        name="finding_review",
    ),
    path("preferences/greyscale/", evidence.greyscale_toggle, name="greyscale_toggle"),
    # --- end cases and evidence ---
]
