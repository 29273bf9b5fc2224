"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path, re_path

from portal.views import auth, cases, dashboard, evidence

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
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
