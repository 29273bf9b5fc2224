"""Error pages say what happened and what to do next; Haetae's errors from portal views become them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from haetae.errors import IntegrityFailure
from portal.middleware import HaetaeErrorMiddleware

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_404_with_next_steps() -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "What to do next" in page and "ask the case lead" in page


def test_an_integrity_failure_in_a_portal_view_is_a_409_page_with_its_message() -> None:
    request = RequestFactory().get("/audit/", HTTP_ACCEPT_LANGUAGE="en")
    request.user = AnonymousUser()
    middleware = HaetaeErrorMiddleware(lambda r: None)  # type: ignore[return-value]
    response = middleware.process_exception(request, IntegrityFailure("event 7 was altered: run verify"))
    assert response is not None and response.status_code == 409
    assert "event 7 was altered" in response.content.decode()
    assert middleware.process_exception(RequestFactory().get("/api/v1/cases/"), IntegrityFailure("x")) is None
    assert middleware.process_exception(request, ValueError("not ours")) is None


def test_the_500_page_renders_without_a_request_context() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "/static/portal/portal.css" in response.content.decode()
