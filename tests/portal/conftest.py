"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Playwright's own browser download does not work on a closed network, so the tests launch /usr/bin/chromium
(installed by ``scripts/sysdeps.sh --test``) through ``executable_path``. Screenshots go to
``test-artifacts/portal/`` so a person can look at every page a test visited.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

from captures.browser import CHROMIUM_OFFLINE_ARGS


class SerialWSGIServer(WSGIServer):
    """The live server answering one request at a time (each response closes its connection).

    On SQLite the test database lives in memory and is one connection, shared by the test thread and the
    live server; Django's default threaded server would use it from several request threads at once (a
    browser loads a page, its assets and HTMX polls in parallel), which fails with "database table is
    locked". PostgreSQL keeps the threaded server.
    """

    def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # setattr: the attribute is declared as the threaded class, which this one deliberately is not.
    setattr(LiveServerThread, "server_class", SerialWSGIServer)  # noqa: B010


CHROMIUM = os.environ.get("HAETAE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"


# The open browser, shared by every directory that uses these fixtures (tests/flows re-exports them), so two
# definitions of the fixture never start Playwright twice at once in one thread, which it refuses.
_running: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def english_unless_asked(settings: Any) -> None:
    """Client tests read the English msgids (Korean is the installation's default; a test of the default
    sets LANGUAGE_CODE back to "ko"). Browsers send Accept-Language, which still wins."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (fails, never skips, in CI when it is missing).

    Per module, not per session: Playwright's sync API keeps an asyncio loop running in the test thread while
    it is open, and code under test that calls ``asyncio.run`` (pyHanko's signing) refuses to run inside one.
    """
    if "browser" in _running:
        yield _running["browser"]
        return
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/sysdeps.sh --test installs it")
        pytest.skip(f"Chromium not found at {CHROMIUM}: run scripts/sysdeps.sh --test (as root)")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in the test thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_OFFLINE_ARGS
        )
        _running["browser"] = browser
        try:
            yield browser
        finally:
            _running.pop("browser", None)
            browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page; ``page.base`` is the live server's URL.

    The browser asks for English unless the test is marked ``@pytest.mark.browser_locale("ko-KR")`` (the
    assertions read English text; the Korean default has its own tests)."""
    marker = request.node.get_closest_marker("browser_locale")
    locale = marker.args[0] if marker else "en-US"
    context = chromium.new_context(
        locale=locale, timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    browser_page = context.new_page()
    browser_page.base = live_server.url
    yield browser_page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/portal/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


# Compiled catalogues for pages rendered in Korean and English
LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.fixture
def compiled_catalogues() -> None:
    """The .mo files are build outputs (make assets compiles them); compile them here when stale."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    stale = any(
        not (LOCALE / lang / "LC_MESSAGES/django.mo").exists()
        or (LOCALE / lang / "LC_MESSAGES/django.mo").stat().st_mtime
        < (LOCALE / lang / "LC_MESSAGES/django.po").stat().st_mtime
        for lang in ("ko", "en")
    )
    if stale:
        call_command("compilemessages", locale=["ko", "en"], verbosity=0)
        # Changing LOCALE_PATHS makes Django drop the catalogues it loaded before the compile.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass
