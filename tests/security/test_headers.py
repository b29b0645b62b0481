"""Headers and transport (issue 8, item 3): a strict Content-Security-Policy on every page
(and pages that keep to it: no inline script, style or event handler), no caching of
signed-in pages, secure cookies and HSTS with the production settings."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from mass.accounts.roles import Role
from tests.urlwalk import iter_url_patterns

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\s(on[a-z]{3,}|hx-on[:-][^\s=]*)\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict_csp(response, url):
    header = response["Content-Security-Policy"]
    csp = parse_csp(header)
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, url
    assert csp["script-src"] == ["'self'"], url
    assert csp["style-src"] == ["'self'"], url
    assert csp["default-src"] == ["'self'"], url
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], url
    assert csp["frame-ancestors"] == ["'none'"], url
    assert set(csp["img-src"]) == {"'self'", "data:"}, url


def assert_keeps_to_csp(html: str, url: str):
    """What the policy would block must not be on the page at all (it would be broken)."""
    for name, pattern in [("inline script", INLINE_SCRIPT), ("style attribute", STYLE_ATTRIBUTE),
                          ("style element", STYLE_ELEMENT), ("event handler", EVENT_HANDLER),
                          ("javascript: URL", JAVASCRIPT_URL)]:
        match = pattern.search(html)
        assert match is None, f"{url}: {name}: {match and match.group(0)[:120]}"


@pytest.fixture
def everyone_client(client, staff_factory):
    """A member holding every role: sees every page a role can see."""
    user = staff_factory(*Role)
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)
    client.force_login(user)
    return client


def simple_urls():
    return sorted({url for _, url in iter_url_patterns() if not re.search(r"/(1|x)(/|$)", url)})


def test_login_page_has_strict_csp_for_anonymous(client, db):
    response = client.get("/accounts/login/")
    assert_strict_csp(response, "/accounts/login/")
    assert_keeps_to_csp(response.content.decode(), "/accounts/login/")


#: The URLs without arguments that are no page to a signed-in user's GET, and what they answer.
NOT_A_PAGE = {
    "/accounts/login/": 302,  # already signed in
    "/accounts/two-factor/verify/": 302,  # no second factor waiting
    "/consultations/screening/new/": 404,  # no ?patient=
    "/labs/results/new/": 404,  # no ?patient=
    "/labs/treatments/new/": 404,  # no ?patient=
    "/vaccinations/new/": 404,  # no ?patient=
    "/labs/figures/": 302,  # to the current year's figures
    **{url: 405 for url in ["/accounts/logout/", "/accounts/two-factor/recovery-codes/",
                            "/language/", "/reception/arrivals/", "/reception/harm-reduction/",
                            "/staff/security/unlock/", "/outreach/api/devices/",
                            "/outreach/api/sync/",
                            "/outreach/devices/00000000-0000-0000-0000-000000000000/disable/"]},
    "/outreach/api/round/": 400,  # JSON; no device registered
}


@pytest.mark.parametrize("url", simple_urls())
def test_every_page_has_strict_csp_and_no_inline_code(everyone_client, url):
    response = everyone_client.get(url)
    assert response.status_code == NOT_A_PAGE.get(url, 200), url
    if url in NOT_A_PAGE:
        return
    assert_strict_csp(response, url)
    if response["Content-Type"].startswith("text/html"):
        assert_keeps_to_csp(response.content.decode(), url)


def test_patient_file_is_never_cached(client, staff_factory):
    from tests.factories import PatientFactory
    patient = PatientFactory()
    client.force_login(staff_factory(Role.RECEPTION, Role.DOCTOR))
    for url in [f"/patients/{patient.pk}/", "/patients/?q=alias", "/reception/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "no-cache", "private", "must-revalidate"} <= cache_control, url
        assert "Expires" in response
        assert_strict_csp(response, url)


def test_other_security_headers(coordinator_client):
    response = coordinator_client.get("/staff/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
# The pages name hashed static files: a production deployment collects them first.
call_command("collectstatic", interactive=False, verbosity=0)
client = Client()
plain = client.get("/accounts/login/", HTTP_HOST="mass.example.org")
health = client.get("/healthz", HTTP_HOST="mass.example.org")
secure = client.get("/accounts/login/", secure=True, HTTP_HOST="mass.example.org")
csrf = secure.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.get("Location", ""),
    "health_status": health.status_code,
    "secure_status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "csrf_cookie": {"secure": bool(csrf["secure"]), "httponly": bool(csrf["httponly"]),
                    "samesite": csrf["samesite"]},
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "language_cookie_secure": settings.LANGUAGE_COOKIE_SECURE,
    "require_2fa": settings.MASS_REQUIRE_2FA,
    "debug": settings.DEBUG,
}))
"""


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEMO", "DEBUG", "SECURE_TRANSPORT", "MASS_REQUIRE_2FA",
                        # set by the browser tests for their own process only
                        "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"DJANGO_SETTINGS_MODULE": "mass.config.settings",
                "SECRET_KEY": "x" * 20 + "production-like-secret-key-9876543210-abcdefghij",
                "ALLOWED_HOSTS": "mass.example.org",
                "TDI_PSEUDONYM_KEY": "production-like-tdi-secret-0123456789", **extra})
    return env


def test_production_settings_force_https_hsts_and_secure_cookies():
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT,
                            env=production_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://mass.example.org/accounts/login/"
    assert probe["health_status"] == 200  # the load balancer's probe stays on plain HTTP
    assert probe["secure_status"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "unsafe-inline" not in probe["csp"] and "script-src 'self'" in probe["csp"]
    assert probe["csrf_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert probe["session_cookie_secure"] and probe["session_cookie_httponly"]
    assert probe["language_cookie_secure"]
    assert probe["require_2fa"] is True and probe["debug"] is False


def test_deploy_check_is_clean_with_production_settings():
    """Also in tests/mass/test_i18n_sites.py; here with the axes and django-otp checks in."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
