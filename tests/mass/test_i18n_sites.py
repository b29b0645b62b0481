import os
import subprocess
import sys
from pathlib import Path

import pytest

from mass.models import OpeningHours, Site


@pytest.mark.parametrize("language,expected", [
    ("fr", "Se déconnecter"), ("nl", "Afmelden"), ("en", "Log out"),
])
def test_ui_renders_in_each_language(client, reception_user, language, expected):
    reception_user.language = language
    reception_user.save(update_fields=["language"])
    client.force_login(reception_user)
    response = client.get("/", follow=True)  # reception's start page: the desk
    assert f'lang="{language}"' in response.content.decode()
    assert expected in response.content.decode()


def test_language_choice_is_remembered_for_the_user(client, reception_user):
    client.force_login(reception_user)
    client.post("/language/", {"language": "nl", "next": "/"})
    reception_user.refresh_from_db()
    assert reception_user.language == "nl"
    assert "Afmelden" in client.get("/", follow=True).content.decode()


def test_language_switch_refuses_foreign_redirect(client, reception_user):
    client.force_login(reception_user)
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_login_page_is_french_by_default(client):
    assert "Connexion" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_woeringen_opening_hours_from_seed_000():
    site = Site.objects.get(name="MASS Woeringen")
    hours = {(h.weekday, h.opens.hour, h.closes.hour) for h in site.opening_hours.all()}
    assert hours == {(0, 10, 19), (1, 11, 19), (2, 10, 19), (3, 14, 19), (4, 10, 19),
                     (5, 10, 13)}
    assert Site.objects.exclude(kind=Site.Kind.CENTRE).exists()
    assert OpeningHours.objects.filter(weekday=6).count() == 0


def test_coordinator_adds_outreach_site(coordinator_client):
    response = coordinator_client.post("/sites/new/", {"name": "Hôtel Rempart", "kind": "hotel",
                                                       "address": "", "phone": "",
                                                       "is_active": "on"})
    assert response.status_code == 302
    assert Site.objects.get(name="Hôtel Rempart").is_outreach


def test_site_form_rejects_unknown_kind(coordinator_client):
    response = coordinator_client.post("/sites/new/", {"name": "X", "kind": "castle"},
                                       HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Site.objects.filter(name="X").exists()


@pytest.mark.parametrize("data,message", [
    ({"name": ""}, "This field is required"),
    ({"kind": "castle"}, "Select a valid choice"),
    ({"name": "x" * 300}, "at most"),
])
def test_site_update_bad_input_changes_nothing(coordinator_client, data, message):
    from mass.models import AuditEvent
    site = Site.objects.get(name="MASS Woeringen")
    before = {f: getattr(site, f) for f in ("name", "kind", "address", "phone", "is_active")}
    response = coordinator_client.post(f"/sites/{site.pk}/", {**before, "is_active": "on",
                                                              **data},
                                       HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    site.refresh_from_db()
    assert {f: getattr(site, f) for f in before} == before
    assert not AuditEvent.objects.filter(object_type="mass.site").exists()


def test_language_switch_refuses_unknown_language(client, reception_user):
    client.force_login(reception_user)
    response = client.post("/language/", {"language": "tlh", "next": "/"})
    assert response.status_code == 302  # back to the page, in the language kept
    reception_user.refresh_from_db()
    assert reception_user.language != "tlh"


@pytest.mark.parametrize("extra", [0, 10])
def test_site_list_query_count_is_constant(coordinator_client, django_assert_num_queries,
                                           extra):
    for n in range(extra):
        site = Site.objects.create(name=f"Abri {n}", kind=Site.Kind.SHELTER)
        OpeningHours.objects.create(site=site, weekday=0, opens="09:00", closes="12:00")
    coordinator_client.get("/sites/")
    with django_assert_num_queries(SITE_PAGE_QUERIES):
        response = coordinator_client.get("/sites/")
    assert response.content.decode().count("/sites/") >= Site.objects.count()


# session, user, permissions and roles (one), sites, their opening hours and coming
# closures, session save (3)
SITE_PAGE_QUERIES = 9


def test_belgian_date_format(client, coordinator_user):
    from mass.models import AuditEvent
    client.force_login(coordinator_user)
    AuditEvent.objects.create(action="view", username="x")
    import re
    content = client.get("/audit/").content.decode()
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", content)


def test_check_deploy_passes_with_production_settings(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEMO", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "mass.config.settings",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-9876543210-abcdefghij",
        "ALLOWED_HOSTS": "mass.example.org",
        "TDI_PSEUDONYM_KEY": "production-like-tdi-secret-0123456789",
    })
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
