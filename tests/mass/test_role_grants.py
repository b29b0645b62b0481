"""Two people to open the secret (issue 13, part 5): a clinical role given on the staff pages
takes effect only when a second coordinator approves."""

import pytest
from django.test import Client

from mass.accounts.roles import Role
from mass.models import AuditEvent, RoleGrant, User
from tests.conftest import make_staff

NEW_DOCTOR = {"username": "xavier", "first_name": "Xavier", "last_name": "D", "email": "",
              "language": "en", "roles": ["doctor"], "password": "Correct-horse-battery-9"}
# A page only the medical roles open (tests/access/test_matrix.py: coordinators get 403).
DOCTOR_PAGE = "/dispensary/prescriptions/"


@pytest.fixture
def second_coordinator(db):
    return make_staff(Role.COORDINATOR, username="t_coordinator_b", language="en")


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def ask_doctor(coordinator_client) -> RoleGrant:
    assert coordinator_client.post("/staff/new/", NEW_DOCTOR).status_code == 302
    # As if xavier had changed the coordinator's password at the first login.
    User.objects.filter(username="xavier").update(must_change_password=False)
    return RoleGrant.objects.get(user__username="xavier")


def grant_audit(grant):
    return list(AuditEvent.objects.filter(object_type="mass.rolegrant", object_id=str(grant.pk))
                .order_by("id").values_list("actor__username", "summary"))


def test_a_clinical_role_asked_for_waits_for_a_second_coordinator(
        coordinator_client, coordinator_user, second_coordinator):
    grant = ask_doctor(coordinator_client)
    xavier = User.objects.get(username="xavier")
    assert not xavier.groups.exists()
    assert (grant.role, grant.requested_by, grant.decided_at) == ("doctor", coordinator_user,
                                                                  None)
    assert browser(xavier).get(DOCTOR_PAGE).status_code == 403
    assert grant_audit(grant) == [("t_coordinator", "role Doctor requested for xavier")]

    # The requester sees the request, without the buttons; the other coordinator has them.
    own_page = coordinator_client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-grant="{grant.pk}"' in own_page
    assert f"/staff/grants/{grant.pk}/approve/" not in own_page
    assert "you asked for this role yourself" in own_page
    other_page = browser(second_coordinator).get("/staff/").content.decode()
    assert f"/staff/grants/{grant.pk}/approve/" in other_page


def test_the_requester_cannot_approve_their_own_request(coordinator_client):
    grant = ask_doctor(coordinator_client)
    audit_rows = AuditEvent.objects.count()
    response = coordinator_client.post(f"/staff/grants/{grant.pk}/approve/", follow=True,
                                       HTTP_ACCEPT_LANGUAGE="en")
    assert "A second person must decide" in response.content.decode()
    grant.refresh_from_db()
    assert grant.decided_at is None
    assert not grant.user.groups.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_second_coordinator_approves_and_the_role_works(coordinator_client,
                                                          second_coordinator):
    grant = ask_doctor(coordinator_client)
    xavier = User.objects.get(username="xavier")
    xavier_browser = browser(xavier)
    response = browser(second_coordinator).post(f"/staff/grants/{grant.pk}/approve/",
                                                follow=True)
    assert "Role Doctor given to xavier." in response.content.decode()
    grant.refresh_from_db()
    assert (grant.approved, grant.decided_by) == (True, second_coordinator)
    assert list(xavier.groups.values_list("name", flat=True)) == ["doctor"]
    assert xavier_browser.get("/").status_code == 302  # new rights: signed out everywhere
    xavier.refresh_from_db()
    assert browser(xavier).get(DOCTOR_PAGE).status_code == 200
    assert grant_audit(grant) == [("t_coordinator", "role Doctor requested for xavier"),
                                  ("t_coordinator_b", "role Doctor approved for xavier")]


def test_a_refused_grant_gives_nothing(coordinator_client, second_coordinator):
    grant = ask_doctor(coordinator_client)
    browser(second_coordinator).post(f"/staff/grants/{grant.pk}/refuse/")
    grant.refresh_from_db()
    assert (grant.approved, grant.decided_by) == (False, second_coordinator)
    assert not grant.user.groups.exists()
    assert browser(grant.user).get(DOCTOR_PAGE).status_code == 403
    assert grant_audit(grant)[-1] == ("t_coordinator_b", "role Doctor refused for xavier")
    assert f'data-grant="{grant.pk}"' not in coordinator_client.get("/staff/").content.decode()


def test_a_decided_request_cannot_be_decided_again(coordinator_client, second_coordinator):
    grant = ask_doctor(coordinator_client)
    other = browser(second_coordinator)
    other.post(f"/staff/grants/{grant.pk}/refuse/")
    audit_rows = AuditEvent.objects.count()
    response = other.post(f"/staff/grants/{grant.pk}/approve/", follow=True)
    assert "This request was already decided." in response.content.decode()
    grant.refresh_from_db()
    assert grant.approved is False
    assert not grant.user.groups.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_an_unknown_request_is_a_404_and_writes_nothing(second_coordinator):
    other = browser(second_coordinator)
    audit_rows = AuditEvent.objects.count()
    assert other.post("/staff/grants/999999/approve/").status_code == 404
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.parametrize("action", ["approve", "refuse"])
def test_decisions_are_post_only(coordinator_client, second_coordinator, action):
    grant = ask_doctor(coordinator_client)
    assert browser(second_coordinator).get(f"/staff/grants/{grant.pk}/{action}/").status_code \
        == 405
    grant.refresh_from_db()
    assert grant.decided_at is None


def test_other_roles_may_not_decide(coordinator_client, doctor_user):
    grant = ask_doctor(coordinator_client)
    assert browser(doctor_user).post(f"/staff/grants/{grant.pk}/approve/").status_code == 403
    grant.refresh_from_db()
    assert grant.decided_at is None


def edit(client, user, roles):
    return client.post(f"/staff/{user.pk}/", {
        "first_name": "N", "last_name": "V", "email": "", "language": "", "roles": roles,
        "is_active": "on"})


def test_adding_a_clinical_role_by_a_change_waits_too(coordinator_client, nurse_user):
    assert edit(coordinator_client, nurse_user, ["nurse", "doctor", "reception"]).status_code \
        == 302
    # Reception (not clinical) at once, doctor waits; asking again does not ask twice.
    assert set(nurse_user.groups.values_list("name", flat=True)) == {"nurse", "reception"}
    edit(coordinator_client, nurse_user, ["nurse", "doctor", "reception"])
    assert list(nurse_user.role_grants.values_list("role", flat=True)) == ["doctor"]


def test_taking_a_clinical_role_away_is_immediate(coordinator_client, staff_factory):
    member = staff_factory(Role.NURSE, Role.DOCTOR)
    assert edit(coordinator_client, member, ["nurse"]).status_code == 302
    assert list(member.groups.values_list("name", flat=True)) == ["nurse"]
    assert not member.role_grants.exists()


def test_coordinator_and_reception_are_given_at_once(coordinator_client):
    coordinator_client.post("/staff/new/", {**NEW_DOCTOR, "roles": ["coordinator"]})
    xavier = User.objects.get(username="xavier")
    assert list(xavier.groups.values_list("name", flat=True)) == ["coordinator"]
    assert not xavier.role_grants.exists()


def test_one_coordinator_centre_may_allow_self_approval(coordinator_client, settings):
    settings.MASS_GRANT_APPROVER = "self"
    grant = ask_doctor(coordinator_client)
    page = coordinator_client.get("/staff/").content.decode()
    assert "data-self-approval" in page
    coordinator_client.post(f"/staff/grants/{grant.pk}/approve/")
    grant.refresh_from_db()
    assert grant.approved is True
    assert list(grant.user.groups.values_list("name", flat=True)) == ["doctor"]


def test_a_named_approver_alone_decides(coordinator_client, second_coordinator, settings):
    settings.MASS_GRANT_APPROVER = "t_medical_lead"
    grant = ask_doctor(coordinator_client)
    response = browser(second_coordinator).post(f"/staff/grants/{grant.pk}/approve/",
                                                follow=True)
    assert "Only t_medical_lead approves clinical roles here." in response.content.decode()
    grant.refresh_from_db()
    assert grant.decided_at is None
    lead = make_staff(Role.COORDINATOR, Role.DOCTOR, username="t_medical_lead")
    browser(lead).post(f"/staff/grants/{grant.pk}/approve/")
    grant.refresh_from_db()
    assert (grant.approved, grant.decided_by) == (True, lead)


def test_create_staff_command_gives_clinical_roles_at_once(db, monkeypatch):
    from django.core.management import call_command
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Correct-horse-battery-9")
    call_command("create_staff", "lead", "--role", "coordinator", "--role", "doctor")
    lead = User.objects.get(username="lead")
    assert set(lead.groups.values_list("name", flat=True)) == {"coordinator", "doctor"}
    assert not lead.role_grants.exists()


PAGE_QUERIES_WITH_GRANTS = 10


def test_staff_page_query_count_does_not_grow_with_pending_grants(
        coordinator_client, second_coordinator, django_assert_num_queries):
    def ask(n):
        for _ in range(n):
            RoleGrant.objects.create(user=make_staff(), role=Role.NURSE,
                                     requested_by=second_coordinator)
    ask(1)
    coordinator_client.get("/staff/")
    with django_assert_num_queries(PAGE_QUERIES_WITH_GRANTS):
        coordinator_client.get("/staff/")
    ask(2)
    with django_assert_num_queries(PAGE_QUERIES_WITH_GRANTS):
        response = coordinator_client.get("/staff/")
    assert response.content.decode().count("data-grant=") == 3
