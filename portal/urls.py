"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path

from portal.views import audit, auth, dashboard

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    # --- dashboard ---
    path("jobs/", dashboard.dashboard_jobs, name="dashboard_jobs"),
    path("alerts/<int:alert_id>/seen/", dashboard.alert_seen, name="alert_seen"),
    # --- audit ---
    path("audit/", audit.ledger, name="audit_ledger"),
    path("audit/events/<int:seq>/", audit.event, name="audit_event"),
    path("audit/checkpoints/", audit.checkpoints, name="audit_checkpoints"),
    path("audit/verification/", audit.verification_runs, name="audit_runs"),
    path("audit/verification/<slug:run>/", audit.verification_run, name="audit_run"),
]
