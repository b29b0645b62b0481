"""Corrections as new rows (issue 14): a group attendance or a screening test recorded by
mistake is cancelled with a reason (who recorded it, or a coordinator; a doctor for a
screening test), once; a screening result is amended like a note, the history kept."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone, translation

from consultations.models import (
    GroupAttendance,
    GroupAttendanceCancellation,
    ScreeningResultAmendment,
    ScreeningTest,
    ScreeningTestCancellation,
)
from consultations.services import group_attendance_add
from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import Patient
from reporting.selectors import file_active_figures
from tests.concurrency import while_held
from tests.conftest import EN, make_staff
from tests.factories import GroupSessionFactory, PatientFactory, ScreeningTestFactory

TODAY = timezone.localdate


def figures():
    return file_active_figures(TODAY().year).figures


# --- group attendances ----------------------------------------------------------------------


def attendance_cancel_url(attendance) -> str:
    return f"/consultations/groups/attendances/{attendance.pk}/cancel/"


def test_an_attendance_cancelled_by_who_recorded_it_is_struck_through_and_counts_no_more(
        nurse_client, nurse_user):
    session = GroupSessionFactory(date=TODAY())
    patient = PatientFactory(alias="Sébastien", file_number="G-1")
    attendance = group_attendance_add(session=session, patient=patient, actor=nurse_user)
    group_attendance_add(session=session, patient=PatientFactory(), actor=nurse_user)
    before = figures()

    response = nurse_client.post(attendance_cancel_url(attendance),
                                 {"reason": "Added the wrong Sébastien"}, **EN)

    assert response.status_code == 302 and response.url == f"/consultations/groups/{session.pk}/"
    cancellation = GroupAttendanceCancellation.objects.get(attendance=attendance)
    assert cancellation.cancelled_by == nurse_user
    after = figures()
    assert after["group_attendances"] == before["group_attendances"] - 1
    assert after["patient_contacts"] == before["patient_contacts"] - 1
    assert after["annual_active_patients"] == before["annual_active_patients"] - 1
    event = AuditEvent.objects.get(action="cancel")
    assert (event.object_type, event.patient_id) == (
        "consultations.groupattendancecancellation", patient.pk)
    page = nurse_client.get(f"/consultations/groups/{session.pk}/", **EN).content.decode()
    assert 'data-participants="1"' in page and "1 participant<" in page
    row = page.split(f'data-attendance="{patient.pk}"')[1].split("</li>")[0]
    assert "data-cancelled" in row and "<del>Sébastien (G-1)</del>" in row
    assert "cancelled: Added the wrong Sébastien — " in row
    # The groups page counts who attended.
    groups = nurse_client.get("/consultations/groups/", **EN)
    listed = next(s for s in groups.context["page"] if s.pk == session.pk)
    assert listed.attendance_count == 1


def test_cancelling_an_attendance_twice_without_reason_or_as_someone_else_is_refused(
        client, nurse_user, doctor_user, coordinator_user):
    attendance = group_attendance_add(session=GroupSessionFactory(), patient=PatientFactory(),
                                      actor=nurse_user)
    url = attendance_cancel_url(attendance)

    client.force_login(doctor_user)
    assert client.post(url, {"reason": "Not mine"}).status_code == 403
    client.force_login(make_staff(username="no_role"))
    assert client.post(url, {"reason": "Who?"}).status_code == 404
    client.force_login(nurse_user)
    blank = client.post(url, {"reason": ""}, **EN)
    assert "Say why this entry is cancelled." in blank.content.decode()
    assert not GroupAttendanceCancellation.objects.exists()

    client.force_login(coordinator_user)
    assert client.post(url, {"reason": "Wrong person"}).status_code == 302
    client.force_login(nurse_user)
    again = client.post(url, {"reason": "Again"}, **EN)
    assert again.status_code == 200 and "cancelled: Wrong person" in again.content.decode()
    assert "This entry is already cancelled." in again.content.decode()
    assert GroupAttendanceCancellation.objects.get().cancelled_by == coordinator_user
    assert client.put(url).status_code == 405


def test_attendance_cancellations_are_append_only(nurse_user):
    attendance = group_attendance_add(session=GroupSessionFactory(), patient=PatientFactory(),
                                      actor=nurse_user)
    cancellation = GroupAttendanceCancellation.objects.create(
        attendance=attendance, reason="Mistake", cancelled_by=nurse_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        GroupAttendanceCancellation.objects.filter(pk=cancellation.pk).update(reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupAttendanceCancellation.objects.create(attendance=attendance, reason="Again",
                                                   cancelled_by=nurse_user)


def test_an_attendance_cancelled_by_mistake_is_recorded_again(nurse_client, nurse_user):
    session = GroupSessionFactory(date=TODAY())
    patient = PatientFactory(alias="Sébastien", file_number="G-1")
    url = f"/consultations/groups/{session.pk}/"
    nurse_client.post(url, {"patient": "G-1"})
    first = GroupAttendance.objects.get()
    nurse_client.post(attendance_cancel_url(first), {"reason": "Thought it was another"})
    before = figures()

    response = nurse_client.post(url, {"patient": "G-1"}, **EN)

    assert response.status_code == 302
    again = GroupAttendance.objects.exclude(pk=first.pk).get()
    assert (again.patient, again.replaces, again.recorded_by) == (patient, first, nurse_user)
    assert not GroupAttendance.objects.standing().filter(pk=first.pk).exists()
    after = figures()
    assert after["group_attendances"] == before["group_attendances"] + 1
    assert after["patient_contacts"] == before["patient_contacts"] + 1
    event = AuditEvent.objects.filter(action="create", object_type="consultations.groupattendance"
                                      ).latest("id")
    assert (event.object_id, event.details) == (str(again.pk), {"replaces": first.pk})
    page = nurse_client.get(url, **EN).content.decode()
    assert 'data-participants="1"' in page
    rows = page.split(f'data-attendance="{patient.pk}"')[1:]
    assert ["data-cancelled" in row.split("</li>")[0] for row in rows] == [True, False]
    # Standing again: a third time is refused, and nothing is written.
    refused = nurse_client.post(url, {"patient": "G-1"}, **EN)
    assert "Sébastien is already recorded in this session." in refused.content.decode()
    assert GroupAttendance.objects.count() == 2


def test_the_database_keeps_one_standing_attendance_per_person_and_session(nurse_user):
    session, patient = GroupSessionFactory(), PatientFactory()
    first = group_attendance_add(session=session, patient=patient, actor=nurse_user)
    # A second first attendance, or one replacing an attendance still standing, another
    # person's or another session's.
    for fields in ({}, {"replaces": first}):
        with pytest.raises(IntegrityError), transaction.atomic():
            GroupAttendance.objects.create(session=session, patient=patient, **fields)
    GroupAttendanceCancellation.objects.create(attendance=first, reason="Mistake",
                                               cancelled_by=nurse_user)
    for fields in ({"session": GroupSessionFactory(), "patient": patient},
                   {"session": session, "patient": PatientFactory()}):
        with pytest.raises(IntegrityError, match="replaces no cancelled attendance"), \
                transaction.atomic():
            GroupAttendance.objects.create(replaces=first, **fields)
    second = GroupAttendance.objects.create(session=session, patient=patient, replaces=first)
    # Replaced once: two people recording the same person again at once.
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupAttendance.objects.create(session=session, patient=patient, replaces=first)
    # What it replaces is kept, and stays replaced.
    with pytest.raises(DatabaseError), transaction.atomic():
        GroupAttendance.objects.filter(pk=second.pk).update(replaces=None)
    assert list(GroupAttendance.objects.standing().values_list("pk", flat=True)) == [second.pk]
    # A merge moves the replacing row with the row it replaces, in one statement (the rule
    # reads the rows after the statement), never alone.
    kept = PatientFactory()
    Patient.objects.filter(pk=patient.pk).update(status=Patient.Status.MERGED, merged_into=kept)
    with pytest.raises(IntegrityError, match="moves without the attendance it replaces"), \
            transaction.atomic():
        GroupAttendance.objects.filter(pk=second.pk).update(patient=kept)
    assert GroupAttendance.objects.filter(pk__in=[first.pk, second.pk]).update(patient=kept) == 2


@pytest.mark.django_db(transaction=True)
def test_recorded_again_by_someone_else_meanwhile_is_refused_in_words():
    """The service's own guard: another worker records the person again between its check
    and its insert. The database refuses the second replacement (one-to-one), the service
    says so in a sentence, and nothing more is written. Real threads, two connections."""
    nurse = make_staff(Role.NURSE, username="t_nurse")
    session, patient = GroupSessionFactory(), PatientFactory(alias="Zora")
    first = group_attendance_add(session=session, patient=patient, actor=nurse)
    GroupAttendanceCancellation.objects.create(attendance=first, reason="Mistake",
                                               cancelled_by=nurse)

    # Its check cannot see the other worker's uncommitted row; its insert waits for it.
    refused = _add_while_another_transaction_holds(
        lambda: GroupAttendance.objects.create(session=session, patient=patient,
                                               replaces=first),
        session=session, patient=patient, actor=nurse)

    assert refused.messages == ["Zora is already recorded in this session."]
    assert GroupAttendance.objects.count() == 2
    assert GroupAttendance.objects.standing().get().replaces == first


@pytest.mark.django_db(transaction=True)
def test_an_attendance_recorded_while_the_file_is_merged_waits_and_is_refused():
    """A merge locks the file and makes it a stub; an attendance recorded on it at that
    moment waits for the merge, reads the file again and is refused in words, rather than
    writing a row on the stub that the merge did not move."""
    nurse = make_staff(Role.NURSE, username="t_nurse")
    session, kept = GroupSessionFactory(), PatientFactory(alias="Kept")
    merged = PatientFactory(alias="Zora")

    def merge():  # the merge's first steps (patients.services.patient_merge)
        Patient.objects.select_for_update().get(pk=merged.pk)
        Patient.objects.filter(pk=merged.pk).update(status=Patient.Status.MERGED,
                                                    merged_into=kept)

    refused = _add_while_another_transaction_holds(merge, session=session, patient=merged,
                                                   actor=nurse)

    assert refused.messages == [f"This file was merged into {kept}: record it on that file."]
    assert not GroupAttendance.objects.exists()


def _add_while_another_transaction_holds(hold, *, session, patient, actor):
    """Record ``patient`` at ``session`` while another transaction holds what ``hold`` did;
    return the service's refusal (a test failure if it wrote instead)."""
    def add():
        with translation.override("en"):
            return group_attendance_add(session=session, patient=patient, actor=actor)

    refused = while_held(hold, add)
    assert isinstance(refused, ValidationError), refused
    return refused


@pytest.mark.parametrize("rows", [1, 3])
def test_the_group_session_page_query_count_is_constant(nurse_client, nurse_user,
                                                        django_assert_num_queries, rows):
    session = GroupSessionFactory(date=TODAY())
    for n in range(rows):
        attendance = group_attendance_add(session=session, patient=PatientFactory(),
                                          actor=nurse_user)
        if n % 2:
            GroupAttendanceCancellation.objects.create(attendance=attendance, reason="Mistake",
                                                       cancelled_by=nurse_user)
    url = f"/consultations/groups/{session.pk}/"
    nurse_client.get(url)
    with django_assert_num_queries(GROUP_PAGE_QUERIES):
        response = nurse_client.get(url)
    assert response.content.decode().count("data-attendance=") == rows


#: The same whatever the rows: the attendances come with their person and cancellation in
#: one query (consultations.selectors.group_session_get).
GROUP_PAGE_QUERIES = 10


# --- screening: no default, amended like notes, cancelled -----------------------------------


def screening_url(patient) -> str:
    return f"/consultations/screening/new/?patient={patient.pk}"


def result_url(screening) -> str:
    return f"/consultations/screening/{screening.pk}/result/"


def test_the_screening_forms_have_no_default_result_and_a_way_back(nurse_client):
    patient = PatientFactory()
    page = nurse_client.get(screening_url(patient), **EN).content.decode()
    select = page.split('name="result"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select and "selected" not in select.split(
        '<option value="" selected>')[1]
    assert f'href="/patients/{patient.pk}/" data-cancel-link' in page
    # Without a choice: refused, nothing written.
    response = nurse_client.post(screening_url(patient), {
        "test": "hcv", "date": TODAY().isoformat()}, **EN)
    assert "Choose the result." in response.content.decode()
    assert not ScreeningTest.objects.exists()

    pending = ScreeningTestFactory(patient=patient, result="pending")
    page = nurse_client.get(result_url(pending), **EN).content.decode()
    select = page.split('name="result"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select
    assert "data-cancel-link" in page


def test_a_result_is_amended_with_a_reason_and_its_history_kept(nurse_client, nurse_user,
                                                                doctor_user, client):
    patient = PatientFactory()
    screening = ScreeningTestFactory(patient=patient, date=TODAY() - datetime.timedelta(days=7),
                                     result="negative", result_date=TODAY(),
                                     performed_by=nurse_user)

    response = nurse_client.post(result_url(screening), {
        "result": "positive", "result_date": TODAY().isoformat(),
        "reason": "Lab called back: sample swapped"}, **EN)

    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.result == "negative"  # as first recorded
    amendment = ScreeningResultAmendment.objects.get()
    assert (amendment.result, amendment.author) == ("positive", nurse_user)
    assert screening.current_result == "positive"
    event = AuditEvent.objects.get(object_type="consultations.screeningresultamendment")
    assert event.patient_id == patient.pk and event.details["was"] == "negative"
    # A doctor amends it again; the page shows the current result and the whole history.
    client.force_login(doctor_user)
    client.post(result_url(screening), {"result": "indeterminate",
                                        "result_date": TODAY().isoformat(),
                                        "reason": "Second sample unclear"})
    page = client.get(result_url(screening), **EN).content.decode()
    assert "Current result: <strong>Indeterminate</strong>" in page
    history = page.split("data-result-history")[1].split("</ol>")[0]
    assert "<del>Negative</del>" in history and "<del>Positive</del>" in history
    assert "Lab called back: sample swapped" in history and "Second sample unclear" in history
    panel = client.get(f"/patients/{patient.pk}/", **EN).content.decode()
    row = panel.split(f'data-screening="{screening.pk}"')[1].split("</tr>")[0]
    assert "Indeterminate" in row and "amended" in row


def test_a_bad_amendment_writes_nothing(nurse_client, nurse_user):
    screening = ScreeningTestFactory(result="negative", result_date=TODAY(),
                                     date=TODAY(), performed_by=nurse_user)
    for data, message in (
            ({"result": "positive", "result_date": TODAY().isoformat(), "reason": ""},
             "Give the reason for the amendment."),
            ({"result": "", "result_date": TODAY().isoformat(), "reason": "x"},
             "Choose the result."),
            ({"result": "pending", "result_date": TODAY().isoformat(), "reason": "x"},
             "Select a valid choice."),
            ({"result": "positive", "result_date": "2000-01-01", "reason": "x"},
             "The result cannot be known before the test.")):
        response = nurse_client.post(result_url(screening), data, **EN)
        assert message in response.content.decode()
    assert not ScreeningResultAmendment.objects.exists()
    with pytest.raises(DatabaseError), transaction.atomic():
        ScreeningResultAmendment.objects.create(
            screening=screening, result="positive", result_date=TODAY(), reason="x",
            author=nurse_user)
        ScreeningResultAmendment.objects.update(reason="edited")


def cancel_url(screening) -> str:
    return f"/consultations/screening/{screening.pk}/cancel/"


def test_a_screening_test_cancelled_is_struck_through_on_the_file(nurse_client, nurse_user):
    patient = PatientFactory()
    screening = ScreeningTestFactory(patient=patient, result="positive", result_date=TODAY(),
                                     date=TODAY(), performed_by=nurse_user)

    response = nurse_client.post(cancel_url(screening), {"reason": "Recorded on the wrong file"},
                                 **EN)

    assert response.status_code == 302 and response.url == f"/patients/{patient.pk}/"
    assert ScreeningTestCancellation.objects.get().cancelled_by == nurse_user
    assert AuditEvent.objects.get(action="cancel").patient_id == patient.pk
    panel = nurse_client.get(f"/patients/{patient.pk}/", **EN).content.decode()
    row = panel.split(f'data-screening="{screening.pk}"')[1].split("</tr>")[0]
    assert "data-cancelled" in row and "<del>Positive</del>" in row
    assert "cancelled: Recorded on the wrong file" in row
    # Nothing more is recorded on it.
    nurse_client.post(result_url(screening), {"result": "negative",
                                              "result_date": TODAY().isoformat(),
                                              "reason": "x"})
    assert not ScreeningResultAmendment.objects.exists()


def test_who_may_cancel_a_screening_test(client, nurse_user, doctor_user):
    screening = ScreeningTestFactory(performed_by=nurse_user)
    url = cancel_url(screening)
    for user, status in ((make_staff(Role.NURSE, username="other_nurse"), 403),
                         (make_staff(Role.PSYCHIATRIST, username="a_psychiatrist"), 403),
                         (make_staff(Role.COORDINATOR, username="a_coordinator"), 404),
                         (make_staff(Role.PSYCHOLOGIST, username="a_psychologist"), 404)):
        client.force_login(user)
        assert client.post(url, {"reason": "Not mine"}).status_code == status
    assert not ScreeningTestCancellation.objects.exists()

    client.force_login(doctor_user)
    assert client.post(url, {"reason": ""}, **EN).status_code == 200
    assert not ScreeningTestCancellation.objects.exists()
    assert client.post(url, {"reason": "Wrong file"}).status_code == 302
    client.force_login(nurse_user)
    again = client.post(url, {"reason": "Again"}, **EN)
    assert "This entry is already cancelled." in again.content.decode()
    assert "cancelled: Wrong file" in again.content.decode()
    assert ScreeningTestCancellation.objects.get().cancelled_by == doctor_user
