"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path, re_path

from portal.views import (
    audit,
    auth,
    captures,
    cases,
    chats,
    dashboard,
    destruction,
    evidence,
    exhibits,
    ingest,
    procedure,
    prosecutor,
    search,
)
from portal.views import faces as face_views
from portal.views import support as support_views

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    # Victim-support pages (portal/views/support.py); no media, thumbnails or content URLs
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
        "cases/<str:number>/support/takedowns/<int:pk>/capture/",
        support_views.takedown_capture,
        name="support-takedown-capture",
    ),
    path("cases/<str:number>/captures/", captures.case_captures, name="case-captures"),
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
    # Cases and evidence
    path("cases/new/", cases.case_create, name="case_create"),
    re_path(r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/$", cases.case_detail, name="case_detail"),
    re_path(
        r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/graph\.json$", cases.case_graph_json, name="case_graph"
    ),
    re_path(
        r"^cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)/evidence/$", cases.evidence_list, name="evidence_list"
    ),
    path("cases/<str:number>/chats/", chats.chats, name="chats"),
    path("cases/<str:number>/chats/<int:pk>/", chats.chat, name="chat"),
    path("cases/<str:number>/search/", search.search_page, name="case_search"),
    path("search/", search.cross_case_search_page, name="cross_case_search"),
    path("cases/<str:number>/timeline/", search.timeline_page, name="case_timeline"),
    path("evidence/<int:pk>/", evidence.item_detail, name="evidence_detail"),
    path("evidence/<int:pk>/custody/", evidence.item_custody, name="evidence_custody"),
    path("evidence/<int:pk>/preview/", evidence.item_preview, name="evidence_preview"),
    path("evidence/<int:pk>/ela/", evidence.item_ela, name="evidence_ela"),
    path("evidence/<int:pk>/reveal/", evidence.item_reveal, name="evidence_reveal"),
    path("evidence/<int:pk>/original/<str:token>/", evidence.item_original, name="evidence_original"),
    path(
        "evidence/<int:pk>/findings/<int:annotation_id>/review/",
        evidence.finding_review,
        name="finding_review",
    ),
    path("preferences/greyscale/", evidence.greyscale_toggle, name="greyscale_toggle"),
    # Ingest
    path("cases/<str:number>/ingest/", ingest.ingest_page, name="ingest"),
    path("cases/<str:number>/ingest/upload/", ingest.ingest_upload, name="ingest_upload"),
    path("acquisitions/<int:pk>/progress/", ingest.ingest_progress, name="ingest_progress"),
    # Exhibits, reports, export bundles
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
    # Prosecutor
    path("cases/<str:number>/procedure/", procedure.procedure_page, name="procedure"),
    path("cases/<str:number>/procedure/issue/", procedure.procedure_issue, name="procedure_issue"),
    path(
        "cases/<str:number>/procedure/documents/<str:document>/",
        procedure.procedure_download,
        name="procedure_download",
    ),
    path("cases/<str:number>/procedure/scene/", procedure.procedure_scene, name="procedure_scene"),
    path("cases/<str:number>/procedure/unrelated/", procedure.procedure_mark, name="procedure_mark"),
    path(
        "cases/<str:number>/procedure/unrelated/<int:pk>/withdraw/",
        procedure.procedure_unmark,
        name="procedure_unmark",
    ),
    path("cases/<str:number>/procedure/dispose/", procedure.procedure_dispose, name="procedure_dispose"),
    # Destruction
    path("cases/<str:number>/destruction/", destruction.destruction_list, name="destruction"),
    path(
        "cases/<str:number>/destruction/request/", destruction.destruction_request, name="destruction_request"
    ),
    path(
        "cases/<str:number>/destruction/<str:order>/", destruction.destruction_order, name="destruction_order"
    ),
    *(
        path(
            f"cases/<str:number>/destruction/<str:order>/{step}/",
            destruction.destruction_step,
            {"step": step},
            name=f"destruction_{step}",
        )
        for step in ("authorise", "witness", "execute", "refuse", "withdraw", "reissue")
    ),
    path(
        "cases/<str:number>/destruction/<str:order>/certificate/",
        destruction.destruction_certificate,
        name="destruction_certificate",
    ),
    path("prosecutor/", prosecutor.prosecutor_home, name="prosecutor_home"),
    path("prosecutor/cases/<str:number>/", prosecutor.prosecutor_case, name="prosecutor_case"),
    path("prosecutor/verify/", prosecutor.prosecutor_verify, name="prosecutor_verify"),
    # Dashboard
    path("jobs/", dashboard.dashboard_jobs, name="dashboard_jobs"),
    path("alerts/<int:alert_id>/seen/", dashboard.alert_seen, name="alert_seen"),
    # Audit
    path("audit/", audit.ledger, name="audit_ledger"),
    path("audit/events/<int:seq>/", audit.event, name="audit_event"),
    path("audit/checkpoints/", audit.checkpoints, name="audit_checkpoints"),
    path("audit/verification/", audit.verification_runs, name="audit_runs"),
    path("audit/verification/<slug:run>/", audit.verification_run, name="audit_run"),
    # Faces: a victim's face across cases, the case's unknown faces in groups
    path("cases/<str:number>/people/<str:pseudonym>/faces/", face_views.person_faces, name="person_faces"),
    path("cases/<str:number>/faces/", face_views.case_faces, name="case_faces"),
    path("cases/<str:number>/faces/name/", face_views.case_faces_name, name="case_faces_name"),
]
