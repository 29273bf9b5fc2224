"""Portal URLs (namespace ``portal``); each area's views live in ``portal/views/<area>.py``."""

from django.urls import path

from portal.views import auth, dashboard

app_name = "portal"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
]
