import pytest
from django.db import DatabaseError, transaction

from mass.models import AuditEvent
from tests.factories import UserFactory


@pytest.mark.django_db
def test_login_writes_audit_row_with_address(client):
    UserFactory(username="amina")
    response = client.post("/accounts/login/", {"username": "amina",
                                                 "password": "test-password-123"},
                           REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert event.username == "amina" and event.ip_address == "10.1.2.3"


@pytest.mark.django_db
def test_failed_login_is_audited_without_password(client):
    response = client.post("/accounts/login/", {"username": "nobody", "password": "secret-xyz"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.username == "nobody" and event.actor is None
    assert "secret-xyz" not in str(event.details)


@pytest.mark.django_db
def test_logout_is_post_only_and_audited(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor=user).exists()


@pytest.mark.django_db
def test_database_refuses_update_of_audit_rows():
    event = AuditEvent.objects.create(action=AuditEvent.Action.VIEW, username="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    event.refresh_from_db()
    assert event.summary == ""


@pytest.mark.django_db
def test_database_refuses_delete_of_audit_rows():
    event = AuditEvent.objects.create(action=AuditEvent.Action.VIEW, username="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_audit_page_filters_by_action(coordinator_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILED, username="intruder")
    AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, username="claire")
    response = coordinator_client.get("/audit/", {"action": "login_failed"})
    content = response.content.decode()
    assert "intruder" in content and "claire" not in content


# session, user, permissions (2), roles, staff choices of the filter, count, page,
# session save (3).
AUDIT_PAGE_QUERIES = 11


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 30])
def test_audit_page_query_count_is_constant(coordinator_client, django_assert_num_queries, rows):
    from tests.factories import PatientFactory
    for _ in range(rows):
        AuditEvent.objects.create(action=AuditEvent.Action.VIEW, username="x",
                                  patient=PatientFactory(), actor=UserFactory())
    coordinator_client.get("/audit/")  # warm the session and permission caches
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        response = coordinator_client.get("/audit/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_readers_of_patient_file(coordinator_user):
    from mass.selectors import audit_readers_of_patient
    from tests.factories import PatientFactory
    patient = PatientFactory()
    reader = UserFactory(username="reader")
    for _ in range(2):
        AuditEvent.objects.create(action=AuditEvent.Action.VIEW, actor=reader, username="reader",
                                  patient=patient)
    rows = audit_readers_of_patient(patient=patient)
    assert [(r["actor__username"], r["reads"]) for r in rows] == [("reader", 2)]
