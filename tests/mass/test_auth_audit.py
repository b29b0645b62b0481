import pytest
from django.db import DatabaseError, transaction
from django.test import Client

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


# session, user, permissions and roles (one), staff choices of the filter, count, page,
# session save (3).
# 10: the page writes one row itself, naming the patients it lists (mass.audit.audit_list_read).
AUDIT_PAGE_QUERIES = 10


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 30])
def test_audit_page_query_count_is_constant(coordinator_client, django_assert_num_queries, rows):
    from tests.factories import PatientFactory
    for _ in range(rows):
        AuditEvent.objects.create(action=AuditEvent.Action.VIEW, username="x",
                                  patient=PatientFactory(), actor=UserFactory())
    coordinator_client.get("/audit/")  # warm the session and permission caches
    with django_assert_num_queries(AUDIT_PAGE_QUERIES):
        response = coordinator_client.get("/audit/", {"action": "view"})
    assert response.status_code == 200
    # The rows, and the read of the page by the warming request.
    assert len(response.context["page"].object_list) == rows + 1


@pytest.mark.django_db
def test_who_read_this_file(coordinator_client, psychologist_user, reception_user):
    """The patient file leads the coordinator to the list of who opened it, reads of a file
    merged into it included (patient-rights law)."""
    from tests.factories import PatientFactory
    kept, merged = PatientFactory(alias="Kept"), PatientFactory(alias="Stub")
    client = Client()
    client.force_login(psychologist_user)
    client.get(f"/patients/{kept.pk}/")
    client.get(f"/patients/{kept.pk}/")
    client.force_login(reception_user)
    client.get(f"/patients/{merged.pk}/")
    merged.merged_into, merged.status = kept, "merged"
    merged.save(update_fields=["merged_into", "status"])

    detail = coordinator_client.get(f"/patients/{kept.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert f'href="/audit/?patient={kept.pk}"' in detail.content.decode()
    response = coordinator_client.get("/audit/", {"patient": kept.pk}, HTTP_ACCEPT_LANGUAGE="en")
    readers = response.context["readers"]
    counts = {r["actor__username"]: r["reads"] for r in readers}
    assert counts[psychologist_user.username] == 2
    assert counts[reception_user.username] == 1
    assert "Who read the file of Kept" in response.content.decode()


@pytest.mark.django_db
def test_the_readers_link_is_only_for_those_who_read_the_audit_trail(reception_client):
    from tests.factories import PatientFactory
    patient = PatientFactory()
    detail = reception_client.get(f"/patients/{patient.pk}/")
    assert "/audit/?patient=" not in detail.content.decode()
    assert reception_client.get("/audit/", {"patient": patient.pk}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("readers", [1, 20])
def test_who_read_this_file_query_count_is_constant(coordinator_client, django_assert_num_queries,
                                                    readers):
    from tests.factories import PatientFactory
    patient = PatientFactory()
    for _ in range(readers):
        AuditEvent.objects.create(action=AuditEvent.Action.VIEW, actor=UserFactory(),
                                  username="x", patient=patient)
    coordinator_client.get("/audit/", {"patient": patient.pk})
    # the page's queries, plus the patient and the readers
    with django_assert_num_queries(AUDIT_PAGE_QUERIES + 3):
        response = coordinator_client.get("/audit/", {"patient": patient.pk})
    # The readers, and the coordinator: the first look at the patient's trail named them.
    assert len(response.context["readers"]) == readers + 1


@pytest.mark.django_db
def test_searches_are_audited(reception_client, reception_user):
    from tests.factories import PatientFactory
    PatientFactory(alias="Zébulon")
    reception_client.get("/patients/", {"q": "zebulon"})
    reception_client.get("/reception/search/", {"q": "zeb"}, HTTP_HX_REQUEST="true")
    reception_client.get("/patients/", {"q": ""})
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, actor=reception_user)
    summaries = sorted(events.values_list("summary", flat=True))
    assert summaries == ['patient search: "zebulon" (1 files)',
                         'reception search: "zeb" (1 files)']


@pytest.mark.django_db
def test_audit_page_filters_by_typed_file_number(coordinator_client):
    """A patient asks who read their file: the coordinator types the number on their card."""
    from tests.factories import PatientFactory
    asking, other = PatientFactory(alias="Asking"), PatientFactory(alias="Other")
    stub = PatientFactory(alias="Stub", merged_into=asking, status="merged")
    for patient, reader in ((asking, "anna"), (stub, "bruno"), (other, "carla")):
        AuditEvent.objects.create(action=AuditEvent.Action.VIEW, username=reader,
                                  patient=patient, actor=UserFactory(username=reader))

    typed = f" {asking.file_number.lower()} "
    response = coordinator_client.get("/audit/", {"file_number": typed},
                                      HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert {event.username for event in response.context["page"]} == {"anna", "bruno"}
    assert "carla" not in content
    assert response.context["patient"] == asking
    assert "Who read the file of Asking" in content


@pytest.mark.django_db
def test_audit_page_says_when_no_file_has_the_typed_number(coordinator_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILED, username="intruder")

    response = coordinator_client.get("/audit/", {"file_number": "NO-SUCH-1"})

    assert list(response.context["page"]) == []
    assert "data-unknown-file-number" in response.content.decode()
