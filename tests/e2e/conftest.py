"""End-to-end tests in a real browser: Playwright for Python driving Debian's Chromium
against the application served by Django's live server on 127.0.0.1.

They run whenever a Chromium is found (``CHROMIUM`` or /usr/bin/chromium) and are skipped,
saying so plainly at the end of the run, otherwise. Screenshots of every step are saved
under var/e2e-screenshots/<run>/, printed at the end of the run.
"""

import os
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SCREENSHOT_DIR = ROOT / "var" / "e2e-screenshots" / time.strftime("%Y%m%d-%H%M%S")



def pytest_configure(config):
    config.addinivalue_line("markers", "locale(code): the browser language of the page fixture")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason="no Chromium found: browser tests skipped "
                                   "(apt-get install chromium)")
    for item in items:
        if "e2e" in item.nodeid.split("/"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _live_server_as_the_application_role():
    """The live server answers the browser with the application's database rights, as in
    production (docs/security.md, "Two database roles"); the test's own thread (arranging
    data, flushing between tests) stays the owner."""
    import threading

    from django.conf import settings
    from django.db.backends.signals import connection_created

    role = settings.MASS_APP_DATABASE_ROLE

    def set_role(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            with connection.cursor() as cursor:
                cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")

    if role:
        connection_created.connect(set_role, weak=False, dispatch_uid="e2e-app-role")
    yield
    connection_created.disconnect(dispatch_uid="e2e-app-role")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
    # make to arrange data happen outside of it, so Django's async-safety guard does not
    # apply. Set only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch(sync_playwright)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch(sync_playwright):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic",
                  # A camera for the identification photo (tests/e2e/test_photo.py):
                  # Chromium's test pattern, allowed without the permission prompt.
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        )
        yield browser
        browser.close()


# Reported by the page itself, so a violation shows up even when Chromium words its own
# console message differently. Init scripts are not subject to the page's CSP.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation: " + event.violatedDirective + " blocked "
                + (event.blockedURI || "inline") + " in " + event.documentURI);
});
"""


def _new_page(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale,
                                  accept_downloads=True)
    context.add_init_script(CSP_REPORTER)
    return context, _watch(context.new_page())


def _watch(page):
    page.set_default_timeout(15_000)
    console_errors = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    # Uncaught exceptions of our scripts.
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    page.console_errors = console_errors
    return page


def open_tab(page):
    """A second tab of the same browser (same session), watched like the first."""
    return _watch(page.context.new_page())


@pytest.fixture
def page(browser, live_server, request):
    """The browser of the scenario's first person; its language is fr-BE (the default UI
    language) unless the test says ``@pytest.mark.locale("en")``."""
    marker = request.node.get_closest_marker("locale")
    context, page = _new_page(browser, live_server, marker.args[0] if marker else "fr-BE")
    yield page
    context.close()


@pytest.fixture
def new_page(browser, live_server):
    """Another person's browser (its own cookies): ``new_page("en")``. Several staff
    members work at once, each at their own desk."""
    contexts = []

    def make(locale="en"):
        context, page = _new_page(browser, live_server, locale)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def console_errors(*pages):
    """Everything the pages logged as an error: CSP violations, uncaught exceptions, htmx
    request errors, failed resources."""
    return [error for page in pages for error in page.console_errors]


def csp_errors(*pages):
    return [error for page in pages for error in page.console_errors
            if "Content Security Policy" in error or error.startswith("page error:")]


# Known and reported, to be removed when fixed: a two-line {# #} comment (Django's {# #} is
# one line only) is shown as text in the patient file's substitution panel and on the
# dispensing page of a patient (templates/dispensary/_record.html, line 2).
class Steps:
    """Saves a numbered screenshot for each step of a scenario (of ``page``, or of another
    person's page given to ``shot``)."""

    def __init__(self, page, name):
        self.page, self.name, self.n = page, name, 0
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def shot(self, label: str, page=None) -> Path:
        page = page or self.page
        self.n += 1
        path = SCREENSHOT_DIR / f"{self.name}-{self.n:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        # Every step's page is also checked for template syntax shown as text (a {# #}
        # comment spanning lines, a tag left unclosed by an edit).
        text = page.locator("body").inner_text()
        leaked = [marker for marker in ("{#", "#}", "{%", "%}", "{{", "}}") if marker in text]
        assert not leaked, f"template syntax {leaked} shown on {page.url} (see {path})"
        return path


@pytest.fixture
def steps(page, request):
    return Steps(page, request.node.name)


def login(page, username, password="test-password-123"):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
