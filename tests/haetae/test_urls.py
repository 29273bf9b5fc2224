"""The API's documentation pages work on a closed network: every asset comes from this server."""

import re

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/"])
def test_docs_page_loads_no_remote_assets(path: str, client: Client) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, "the docs page should reference its script and styles"
    remote = [url for url in assets if re.match(r"^(https?:)?//", url)]
    assert remote == [], f"assets loaded from other hosts (a CDN is unreachable here): {remote}"
    for url in assets:  # and each one is really served, with DEBUG off as in production
        assert client.get(url).status_code == 200, url


def test_schema_is_public_and_api_is_not(client: Client, db: None) -> None:
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/v1/cases/").status_code in {401, 403}
