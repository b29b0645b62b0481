import pytest
from django.urls import reverse

from mass.accounts.roles import Role
from tests.urlwalk import iter_url_patterns

PUBLIC = {"/accounts/login/", "/healthz", "/language/"}


@pytest.mark.django_db
@pytest.mark.parametrize("name,url", [(name, url) for name, url in iter_url_patterns()
                                      if url not in PUBLIC])
def test_every_url_redirects_anonymous_to_login(client, name, url):
    response = client.get(url)
    assert response.status_code == 302, (name, url)
    assert response["Location"].startswith(reverse("login")), (name, url)


def test_url_walk_finds_the_foundation_urls():
    urls = {url for _, url in iter_url_patterns()}
    assert {"/", "/staff/", "/audit/", "/staff/1/", "/healthz"} <= urls


@pytest.mark.django_db
def test_healthz_is_public_and_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "Retry-After" not in response


def test_healthz_503_with_retry_after_when_database_unreachable():
    """A real unreachable server (a closed port), not a mock: the probe must say so, and
    when to ask again (Retry-After)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = ("import django, json; django.setup(); from django.test import Client; "
              "r = Client().get('/healthz'); "
              "print(r.status_code, r.headers.get('Retry-After'), json.loads(r.content))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mass.config.settings", "DEMO": "1",
           "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.startswith("503 10 "), result.stdout + result.stderr  # Retry-After
    assert "'database': 'ok'" not in result.stdout


CLINIC = {"arrivals", "consultations", "groups", "partners", "patients", "sites", "lost",
          "outreach"}
#: Vaccinations and labs (issue 17): nurses vaccinate, doctors also import and read figures.
MEDICAL = {"vaccinations_due"}
DOCTORS = MEDICAL | {"lab_import", "care_figures"}
SECTIONS_OF_ROLE = {
    Role.RECEPTION: {"reception", "patients", "partners", "sites"},
    Role.NURSE: CLINIC | {"dispensary", "register"} | MEDICAL,
    Role.DOCTOR: CLINIC | {"prescriptions", "social"} | DOCTORS,
    Role.PSYCHIATRIST: CLINIC | {"prescriptions", "social"} | DOCTORS,
    Role.PSYCHOLOGIST: CLINIC,
    Role.SOCIAL_WORKER: CLINIC | {"social"},
    Role.COORDINATOR: {"staff", "audit", "reporting", "register", "social", "patients",
                       "partners", "sites", "lost", "care_figures"},
}


@pytest.mark.parametrize("role", list(Role))
def test_start_page_shows_each_role_exactly_its_sections(client, staff_factory, role):
    import re
    client.force_login(staff_factory(role))
    response = client.get("/")
    if role == Role.RECEPTION:
        # Reception's start page is the desk; its menu has the same sections.
        assert response.status_code == 302 and response["Location"] == "/reception/"
        response = client.get(response["Location"])
        shown = set(re.findall(r'data-nav="([^"]+)"', response.content.decode()))
    else:
        assert response.status_code == 200
        shown = set(re.findall(r'data-section="([^"]+)"', response.content.decode()))
    assert shown == SECTIONS_OF_ROLE[role]


#: Under "More" in the menu, so that it fits on one line (tests/e2e/test_accessibility.py).
OCCASIONAL = {"lost", "groups", "partners", "audit", "sites", "vaccinations_due", "lab_import",
              "care_figures", "outreach"}


@pytest.mark.parametrize("role", list(Role))
def test_menu_links_each_section_of_the_role_once_the_occasional_ones_under_more(
        client, staff_factory, role):
    import re
    client.force_login(staff_factory(role))
    # (Reception's start page redirects to the desk: follow it to a page with the menu.)
    page = client.get("/", follow=True).content.decode()
    menu = page.split('id="mainnav"', 1)[1].split("</nav>", 1)[0]
    linked = re.findall(r'data-nav="([^"]+)"', menu)
    assert sorted(linked) == sorted(SECTIONS_OF_ROLE[role])
    more = menu.split("data-nav-more", 1)[1]
    assert set(re.findall(r'data-nav="([^"]+)"', more)) == SECTIONS_OF_ROLE[role] & OCCASIONAL


def test_the_board_is_one_entry_for_a_member_at_the_desk_and_in_the_clinic(client,
                                                                             staff_factory):
    client.force_login(staff_factory(Role.RECEPTION, Role.NURSE))
    content = client.get("/").content.decode()
    assert 'data-section="reception"' in content and 'data-section="arrivals"' not in content


@pytest.mark.parametrize("url", ["/staff/", "/staff/new/", "/audit/"])
@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHOLOGIST,
                                  Role.SOCIAL_WORKER])
def test_coordinator_pages_refused_to_other_roles(client, staff_factory, role, url):
    client.force_login(staff_factory(role))
    assert client.get(url).status_code == 403


def test_user_without_role_is_told(client, staff_factory):
    client.force_login(staff_factory(language="en"))
    response = client.get("/")
    assert "Your account has no role yet" in response.content.decode()


def test_security_headers_on_pages(coordinator_client):
    response = coordinator_client.get("/staff/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
