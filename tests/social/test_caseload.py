import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from social.models import SocialAction
from tests.conftest import EN
from tests.factories import PartnerFactory, PatientFactory, SocialActionFactory

CASELOAD = reverse("social:caseload")
TEAM = reverse("social:team")


def today(delta=0):
    return timezone.localdate() + datetime.timedelta(days=delta)


def shown(response) -> list[int]:
    return [action.pk for action in response.context["page"].object_list]


def test_caseload_is_the_users_open_actions_overdue_first(social_worker_client,
                                                         social_worker_user, staff_factory):
    mine = dict(social_worker=social_worker_user, opened_on=today(-60))
    later = SocialActionFactory(**mine, due_on=today(20))
    no_due = SocialActionFactory(**mine, due_on=None)
    overdue_old = SocialActionFactory(**mine, due_on=today(-30), status="in_progress")
    overdue = SocialActionFactory(**mine, due_on=today(-1))
    soon = SocialActionFactory(**mine, due_on=today(2))
    SocialActionFactory(**mine, status="done", closed_on=today(), outcome="ok")
    SocialActionFactory(social_worker=staff_factory(Role.SOCIAL_WORKER), due_on=today(1))

    response = social_worker_client.get(CASELOAD, **EN)

    assert response.status_code == 200
    assert shown(response) == [overdue_old.pk, overdue.pk, soon.pk, later.pk, no_due.pk]
    page = response.content.decode()
    assert page.count("data-overdue") == 2
    assert "My caseload" in page


@pytest.mark.parametrize("query,expected", [
    ("type=food_aid", ["food"]),
    ("status=done", ["done"]),
    ("status=in_progress", ["housing"]),
    ("status=all", ["food", "housing", "done", "insurance"]),
    ("partner=PARTNER", ["housing"]),
    ("due_after=DAY5", ["insurance"]),
    ("due_before=DAY5", ["food", "housing"]),
    ("due_after=DAY1&due_before=DAY5", ["housing"]),
    ("type=insurance&status=done", ["done"]),
    ("type=food_aid&status=done", []),
])
def test_caseload_filters(social_worker_client, social_worker_user, query, expected):
    partner = PartnerFactory(name="Projet Lama", kind="treatment")
    mine = dict(social_worker=social_worker_user, opened_on=today(-10))
    actions = {
        "food": SocialActionFactory(**mine, type="food_aid", due_on=today(-1)),
        "housing": SocialActionFactory(**mine, type="housing", due_on=today(3),
                                       status="in_progress", partner=partner),
        "insurance": SocialActionFactory(**mine, type="insurance", due_on=today(10)),
        "done": SocialActionFactory(**mine, type="insurance", status="done",
                                    due_on=today(4), closed_on=today(), outcome="ok"),
    }
    query = (query.replace("PARTNER", str(partner.pk))
             .replace("DAY5", today(5).isoformat()).replace("DAY1", today(1).isoformat()))

    response = social_worker_client.get(f"{CASELOAD}?{query}")

    assert sorted(shown(response)) == sorted(actions[key].pk for key in expected)


def test_bad_filter_input_is_reported_not_crashing(social_worker_client, social_worker_user):
    SocialActionFactory(social_worker=social_worker_user)
    response = social_worker_client.get(CASELOAD + "?due_after=tomorrow&type=holiday", **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date" in page and "Select a valid choice" in page


def test_team_view_shows_every_social_worker_and_filters_by_one(social_worker_client,
                                                                social_worker_user,
                                                                staff_factory):
    colleague = staff_factory(Role.SOCIAL_WORKER, first_name="Zoé", last_name="Collègue")
    mine = SocialActionFactory(social_worker=social_worker_user)
    theirs = SocialActionFactory(social_worker=colleague)

    response = social_worker_client.get(TEAM, **EN)
    assert sorted(shown(response)) == sorted([mine.pk, theirs.pk])
    assert "Team caseload" in response.content.decode()
    assert "Zoé Collègue" in response.content.decode()

    response = social_worker_client.get(f"{TEAM}?social_worker={colleague.pk}")
    assert shown(response) == [theirs.pk]


def test_htmx_filtering_returns_only_the_results(social_worker_client, social_worker_user):
    SocialActionFactory(social_worker=social_worker_user)
    response = social_worker_client.get(CASELOAD + "?type=housing", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'id="caseload-results"' in page and "<html" not in page


def test_someone_without_a_caseload_of_their_own_gets_the_team(doctor_client,
                                                              social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user)
    response = doctor_client.get(CASELOAD)
    assert response.status_code == 200 and response.context["team"] is True
    assert shown(response) == [action.pk]


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.PSYCHOLOGIST])
def test_caseload_refused_to_other_roles(client, staff_factory, role):
    client.force_login(staff_factory(role))
    assert client.get(CASELOAD).status_code == 403
    assert client.get(TEAM).status_code == 403


def test_caseload_appears_in_the_navigation_of_social_workers(social_worker_client):
    page = social_worker_client.get("/").content.decode()
    assert CASELOAD in page


def make_actions(worker, count):
    partner = PartnerFactory(name="CPAS de Schaerbeek", kind="cpas")
    patients = PatientFactory.create_batch(min(count, 20))
    SocialAction.objects.bulk_create([
        SocialAction(type="housing", patient=patients[i % len(patients)], social_worker=worker,
                     created_by=worker, partner=partner if i % 2 else None,
                     opened_on=today(-40), due_on=today(i % 60 - 30), notes="n")
        for i in range(count)
    ])


@pytest.mark.parametrize("url", [CASELOAD, TEAM])
@pytest.mark.parametrize("count", [1, 200])
def test_caseload_queries_do_not_grow_with_actions(social_worker_client, social_worker_user,
                                                   django_assert_num_queries, url, count):
    make_actions(social_worker_user, count)
    # session, user, permissions and roles (one), filter choices, count, page: fixed.
    with django_assert_num_queries(EXPECTED_QUERIES[url]):
        response = social_worker_client.get(url + "?status=active")
    assert len(response.context["page"].object_list) == min(count, 50)


# Each with the read row naming the patients of the page (one INSERT, audit_list_read).
EXPECTED_QUERIES = {CASELOAD: 10, TEAM: 11}
