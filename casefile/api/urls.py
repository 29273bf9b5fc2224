"""Routes of the cases API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from casefile.api import exhibits as exhibit_api
from casefile.api import interchange as interchange_api
from casefile.api import support as support_api
from casefile.api import views

app_name = "casefile-api"

CASE = r"cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)"

router = SimpleRouter()
router.register("offences", views.OffenceViewSet, basename="offence")
router.register("cases", views.CaseViewSet, basename="case")
router.register(f"{CASE}/members", views.CaseMemberViewSet, basename="case-member")
router.register(f"{CASE}/authorities", views.LegalAuthorityViewSet, basename="case-authority")
router.register(f"{CASE}/people", views.PersonViewSet, basename="case-person")
router.register(f"{CASE}/channels", views.ChannelViewSet, basename="case-channel")
router.register(f"{CASE}/links/item-person", views.ItemPersonLinkViewSet, basename="case-link-item-person")
router.register(f"{CASE}/links/item-channel", views.ItemChannelLinkViewSet, basename="case-link-item-channel")
router.register(
    f"{CASE}/links/person-channel", views.PersonChannelLinkViewSet, basename="case-link-person-channel"
)
router.register(
    f"{CASE}/links/item-derivation", views.ItemDerivationLinkViewSet, basename="case-link-item-derivation"
)

# --- support: victim support files, consents, notes, takedowns, hash export (casefile/api/support.py) ---
router.register(
    rf"{support_api.CASE_PREFIX}/support-files/(?P<support_file_pk>[0-9]+)/consents",
    support_api.SupportConsentViewSet,
    basename="support-consent",
)
router.register(
    rf"{support_api.CASE_PREFIX}/support-files", support_api.SupportFileViewSet, basename="support-file"
)
router.register(rf"{support_api.CASE_PREFIX}/takedowns", support_api.TakedownViewSet, basename="takedown")
router.register("takedowns", support_api.OverdueAcrossCasesViewSet, basename="takedown-all")
# --- end support ---

# --- interchange: VICS JSON and CASE/UCO JSON-LD exports (casefile/api/interchange.py) ---
router.register(f"{CASE}/interchange", interchange_api.InterchangeViewSet, basename="case-interchange")
# --- end interchange ---
# --- exapi: exhibits, reports, export bundles (casefile/api/exhibits.py) ---
router.register(f"{CASE}/exhibits", exhibit_api.ExhibitViewSet, basename="case-exhibit")
router.register(f"{CASE}/reports", exhibit_api.CaseReportViewSet, basename="case-report")
router.register(f"{CASE}/bundles", exhibit_api.CaseBundleViewSet, basename="case-bundle")
router.register("reports", exhibit_api.ReportViewSet, basename="report")
router.register("bundles", exhibit_api.BundleViewSet, basename="bundle")
# --- end exapi ---

urlpatterns = router.urls
