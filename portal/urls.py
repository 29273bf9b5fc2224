"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path

from portal.views import auth, dashboard, ingest

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    # --- work: ingest ---
    path("cases/<str:number>/ingest/", ingest.ingest_page, name="ingest"),
    path("cases/<str:number>/ingest/upload/", ingest.ingest_upload, name="ingest_upload"),
    path("acquisitions/<int:pk>/progress/", ingest.ingest_progress, name="ingest_progress"),
]
