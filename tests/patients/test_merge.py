import datetime

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from consultations.models import (
    Consultation,
    GroupAttendance,
    GroupAttendanceCancellation,
    GroupSession,
)
from mass.models import AuditEvent
from patients.models import Episode, HarmReductionContact, Patient, PatientMerge, Visit
from patients.services import patient_relations
from social.models import IncomeRecord
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory

TODAY = timezone.localdate


def merge(client, kept, other, reason="Même personne: même date de naissance et photo.",
          confirm=True):
    data = {"other": other.file_number, "reason": reason}
    if confirm:
        data["confirm"] = "True"
    return client.post(f"/patients/{kept.pk}/merge/", data, **EN)


@pytest.fixture
def files(db):
    kept = PatientFactory(alias="Momo", file_number="K1", last_name="")
    other = PatientFactory(alias="Mohamed", file_number="D1", last_name="Benali",
                           birth_year=1980, notes="Connu à la rue Haute.")
    return kept, other


def test_merge_moves_everything_and_keeps_a_stub(coordinator_client, coordinator_user, files):
    kept, other = files
    VisitFactory.create_batch(3, patient=other)
    VisitFactory(patient=kept)
    EpisodeFactory(patient=other, opened_on=TODAY() - datetime.timedelta(days=300),
                   closed_on=TODAY() - datetime.timedelta(days=200), closure_reason="moved")
    HarmReductionContact.objects.create(date=TODAY(), patient=other, material="syringe",
                                        handed_out=5)
    read = AuditEvent.objects.create(action=AuditEvent.Action.VIEW, patient=other, username="x")

    response = merge(coordinator_client, kept, other)

    assert response.status_code == 302 and response["Location"] == f"/patients/{kept.pk}/"
    assert Visit.objects.filter(patient=kept).count() == 4
    assert not Visit.objects.filter(patient=other).exists()
    assert Episode.objects.get().patient == kept
    assert HarmReductionContact.objects.get().patient == kept
    other.refresh_from_db()
    kept.refresh_from_db()
    assert other.status == Patient.Status.MERGED and other.merged_into == kept
    assert other.alias == "Mohamed" and other.notes == "Connu à la rue Haute."  # nothing lost
    assert kept.last_name == "Benali" and kept.birth_year == 1980  # empty details filled
    read.refresh_from_db()
    assert read.patient == other  # the audit trail stays history of the stub
    record = PatientMerge.objects.get()
    assert record.kept == kept and record.merged == other and record.merged_by == coordinator_user
    assert record.moved == {"patients.visit": 3, "patients.episode": 1,
                            "patients.harmreductioncontact": 1}
    assert record.copied_fields == {"last_name": "Benali", "birth_year": 1980}
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert event.patient == kept and event.actor == coordinator_user
    assert event.details["moved"] == record.moved


def test_merge_explained_on_both_files(coordinator_client, files):
    kept, other = files
    merge(coordinator_client, kept, other, reason="Deux alias, une personne.")
    content = coordinator_client.get(f"/patients/{kept.pk}/", **EN).content.decode()
    assert "Files merged into this one" in content and "Deux alias, une personne." in content
    stub = coordinator_client.get(f"/patients/{other.pk}/", **EN).content.decode()
    assert "This file was merged into file K1" in stub and "Deux alias, une personne." in stub


def test_merge_moves_records_of_other_apps(coordinator_client, files, doctor_user):
    kept, other = files
    Consultation.objects.create(patient=other, author=doctor_user, discipline="medical",
                                date=TODAY())
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    GroupAttendance.objects.create(session=session, patient=other)
    IncomeRecord.objects.create(patient=other, date=TODAY(), source="cpas")

    merge(coordinator_client, kept, other)

    record = PatientMerge.objects.get()
    for label in ("consultations.consultation", "consultations.groupattendance",
                  "social.incomerecord"):
        assert record.moved[label] == 1
    assert Consultation.objects.get().patient == kept
    assert GroupAttendance.objects.get().patient == kept
    # an append-only table: only patient_id may change
    assert IncomeRecord.objects.get().patient == kept


def test_merge_of_files_at_the_same_group_session(coordinator_client, files):
    """Both files attended the same session: one person, one attendance. The kept file keeps
    its own, the copy stays on the stub (never deleted), is said so and counted once."""
    from consultations.models import GroupAttendance, GroupSession
    from reporting.selectors import file_active_figures
    kept, other = files
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    GroupAttendance.objects.create(session=session, patient=kept)
    GroupAttendance.objects.create(session=session, patient=other)
    VisitFactory(patient=other, date=TODAY())

    response = merge(coordinator_client, kept, other)

    assert response.status_code == 302
    record = PatientMerge.objects.get()
    assert record.moved == {"patients.visit": 1}
    assert record.left == {"consultations.groupattendance": 1}
    assert GroupAttendance.objects.filter(patient=kept).count() == 1
    assert GroupAttendance.objects.filter(patient=other).count() == 1
    stub = coordinator_client.get(f"/patients/{other.pk}/", **EN).content.decode()
    assert "Left on this file" in stub and "1 group attendance" in stub
    figures = file_active_figures(TODAY().year).figures
    assert figures["group_attendances"] == 1
    assert figures["annual_active_patients"] == 1 and figures["patient_contacts"] == 1


def recorded_again(session, patient, coordinator):
    """An attendance of ``patient`` at ``session``, cancelled and recorded again."""
    first = GroupAttendance.objects.create(session=session, patient=patient)
    GroupAttendanceCancellation.objects.create(attendance=first, reason="Mistake",
                                               cancelled_by=coordinator)
    return first, GroupAttendance.objects.create(session=session, patient=patient,
                                                 replaces=first)


def test_merge_moves_an_attendance_recorded_again_with_the_one_it_replaces(
        coordinator_client, coordinator_user, files):
    kept, other = files
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    recorded_again(session, other, coordinator_user)

    merge(coordinator_client, kept, other)

    assert PatientMerge.objects.get().moved == {"consultations.groupattendance": 2}
    assert set(GroupAttendance.objects.values_list("patient", flat=True)) == {kept.pk}


def test_merge_leaves_a_recorded_again_attendance_with_the_one_it_replaces(
        coordinator_client, coordinator_user, files):
    """Both files at the same session, the merged one's attendance recorded again: the
    kept file keeps its own and only it, the merged file's two rows stay on it. A row
    moved without the one it replaces would be a second standing attendance."""
    from reporting.selectors import file_active_figures
    kept, other = files
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    own = GroupAttendance.objects.create(session=session, patient=kept)
    first, again = recorded_again(session, other, coordinator_user)
    # At a session the kept file did not attend, the chain moves, row by row after the
    # conflict above: what is replaced first (ids ascend along a chain).
    elsewhere = recorded_again(GroupSession.objects.create(date=TODAY(), kind="other"), other,
                               coordinator_user)

    assert merge(coordinator_client, kept, other).status_code == 302

    record = PatientMerge.objects.get()
    assert record.left == {"consultations.groupattendance": 2}
    assert record.moved == {"consultations.groupattendance": 2}
    assert set(GroupAttendance.objects.filter(patient=kept)) == {own, *elsewhere}
    assert set(GroupAttendance.objects.filter(patient=other)) == {first, again}
    assert GroupAttendance.objects.standing().filter(patient=kept).count() == 2
    figures = file_active_figures(TODAY().year).figures
    assert figures["group_attendances"] == 2 and figures["patient_contacts"] == 1


@pytest.mark.parametrize("again", [False, True], ids=["standing", "recorded again"])
def test_merge_records_again_an_attendance_whose_kept_copy_was_cancelled(
        coordinator_client, coordinator_user, files, again):
    """The worker picked the wrong file at a session (cancelled it) and recorded the person on
    the other one; the two files are then merged. The kept file's first attendance keeps the
    merged file's on the stub, where nothing counts: the merge records it again on the kept
    file, replacing its cancelled one, and says so."""
    from consultations.services import group_attendance_add
    from reporting.selectors import file_active_figures
    kept, other = files
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    mistake = GroupAttendance.objects.create(session=session, patient=kept)
    GroupAttendanceCancellation.objects.create(attendance=mistake, reason="Wrong file",
                                               cancelled_by=coordinator_user)
    if again:
        recorded_again(session, other, coordinator_user)
    else:
        group_attendance_add(session=session, patient=other, actor=coordinator_user)

    assert merge(coordinator_client, kept, other).status_code == 302

    record = PatientMerge.objects.get()
    assert record.left == {"consultations.groupattendance": 2 if again else 1}
    assert record.recorded == {"consultations.groupattendance": 1}
    standing = GroupAttendance.objects.standing().get(patient=kept)
    assert (standing.session, standing.replaces) == (session, mistake)
    assert standing.recorded_by == coordinator_user  # who merged: the row is the merge's
    figures = file_active_figures(TODAY().year).figures
    assert figures["group_attendances"] == 1 and figures["patient_contacts"] == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert event.details["recorded"] == {"consultations.groupattendance": 1}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, patient=kept,
                                     object_id=str(standing.pk)).exists()
    stub = coordinator_client.get(f"/patients/{other.pk}/", **EN).content.decode()
    assert "Recorded again on the kept file" in stub and "1 group attendance" in stub
    page = coordinator_client.get(f"/consultations/groups/{session.pk}/", **EN).content.decode()
    assert 'data-participants="1"' in page
    assert "file merged into K1: counted there" in page


def test_a_kept_attendance_cancelled_after_the_merge_is_said_not_counted(
        coordinator_client, coordinator_user, nurse_user, files):
    """Both files at a session: the merged file's row stays on the stub, counted on the kept
    file's. Cancelled afterwards, the kept file's no longer counts the person; the session's
    page says so beside the stub's row, and adding the kept file again counts them once."""
    from consultations.services import group_attendance_cancel
    from reporting.selectors import file_active_figures
    kept, other = files
    session = GroupSession.objects.create(date=TODAY(), kind="relaxation")
    own = GroupAttendance.objects.create(session=session, patient=kept)
    GroupAttendance.objects.create(session=session, patient=other)
    merge(coordinator_client, kept, other)
    url = f"/consultations/groups/{session.pk}/"
    counted = "file merged into K1: counted there"
    assert counted in coordinator_client.get(url, **EN).content.decode()

    group_attendance_cancel(attendance=own, reason="Pressed the wrong line",
                            actor=coordinator_user)

    page = coordinator_client.get(url, **EN).content.decode()
    assert 'data-participants="0"' in page
    assert ("file merged into K1, whose attendance here is cancelled: not counted (add K1 if "
            "the person was here)") in page
    assert file_active_figures(TODAY().year).figures["group_attendances"] == 0
    nurse = Client()
    nurse.force_login(nurse_user)
    assert nurse.post(url, {"patient": "K1"}).status_code == 302
    assert counted in coordinator_client.get(url, **EN).content.decode()
    assert file_active_figures(TODAY().year).figures["group_attendances"] == 1


def test_every_relation_to_a_patient_is_moved_except_history():
    labels = {model._meta.label_lower for model, field in patient_relations()}
    assert {"patients.visit", "patients.episode", "patients.harmreductioncontact",
            "patients.patient"} <= labels
    assert "mass.auditevent" not in labels and "patients.patientmerge" not in labels


def test_earlier_stubs_follow_to_the_kept_file(coordinator_client, files):
    kept, other = files
    older = PatientFactory(status=Patient.Status.MERGED, merged_into=other)
    merge(coordinator_client, kept, other)
    older.refresh_from_db()
    assert older.merged_into == kept


def test_merge_preview_writes_nothing(coordinator_client, files):
    kept, other = files
    VisitFactory.create_batch(2, patient=other)
    response = merge(coordinator_client, kept, other, confirm=False)
    content = response.content.decode()
    assert response.status_code == 200 and "2 walk-ins" in content
    assert 'name="confirm"' in content
    other.refresh_from_db()
    assert other.status == Patient.Status.ACTIVE and not PatientMerge.objects.exists()
    assert Visit.objects.filter(patient=other).count() == 2


@pytest.mark.parametrize("other,reason,message", [
    ("NOPE", "x", "No file has this file number"),
    ("K1", "x", "cannot be merged into itself"),
    ("D1", "", "This field is required"),
    ("D1", "r" * 1001, "at most 1000 characters"),
])
def test_merge_bad_input_writes_nothing(coordinator_client, files, other, reason, message):
    kept, _ = files
    response = coordinator_client.post(f"/patients/{kept.pk}/merge/", {
        "other": other, "reason": reason, "confirm": "True"}, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    assert not PatientMerge.objects.exists()
    assert not Patient.objects.filter(status=Patient.Status.MERGED).exists()


def test_merge_of_an_already_merged_file_is_refused(coordinator_client, files):
    kept, other = files
    merge(coordinator_client, kept, other)
    third = PatientFactory()
    response = merge(coordinator_client, third, other)
    assert "already merged" in response.content.decode()
    assert PatientMerge.objects.count() == 1


def test_merge_with_two_running_prescriptions_of_one_substance_is_refused(coordinator_client,
                                                                           files):
    """One person, two methadone treatments at once: a doctor ends one first. An ended one
    moves with the rest."""
    from tests.factories import PrescriptionFactory
    kept, other = files
    PrescriptionFactory(patient=kept, start_date=TODAY() - datetime.timedelta(days=10))
    running = PrescriptionFactory(patient=other, start_date=TODAY() - datetime.timedelta(days=5))
    response = merge(coordinator_client, kept, other)
    assert "Both files have a running prescription of methadone" in response.content.decode()
    assert not PatientMerge.objects.exists()
    running.end_date = TODAY() - datetime.timedelta(days=1)
    running.save(update_fields=["end_date"])
    assert merge(coordinator_client, kept, other).status_code == 302
    assert PatientMerge.objects.get().moved == {"dispensary.prescription": 1}


@pytest.mark.parametrize("role_client", ["reception_client", "nurse_client", "doctor_client"])
def test_merge_is_refused_to_other_roles(request, files, role_client):
    client = request.getfixturevalue(role_client)
    kept, other = files
    assert client.get(f"/patients/{kept.pk}/merge/").status_code == 404
    assert merge(client, kept, other).status_code == 404
    other.refresh_from_db()
    assert other.status == Patient.Status.ACTIVE


def test_merged_stub_takes_no_new_records(client, coordinator_user, reception_user, files):
    kept, other = files
    client.force_login(coordinator_user)
    merge(client, kept, other)
    client.force_login(reception_user)
    reception_client = client
    response = reception_client.get(f"/patients/{other.pk}/walk-ins/new/", **EN, follow=True)
    assert "was merged into file K1" in response.content.decode()
    response = reception_client.get(f"/patients/{other.pk}/edit/", **EN, follow=True)
    assert "was merged into file K1" in response.content.decode()
    assert not Visit.objects.filter(patient=other).exists()


def test_merged_stub_refuses_records_even_from_code_that_forgot_to_check(files):
    from django.core.exceptions import ValidationError
    kept, other = files
    Patient.objects.filter(pk=other.pk).update(status=Patient.Status.MERGED, merged_into=kept)
    with pytest.raises(ValidationError):
        Visit.objects.create(patient_id=other.pk, date=TODAY())
    assert not Visit.objects.exists()


def test_database_keeps_the_merge_record_as_written(coordinator_client, files):
    from django.db import DatabaseError, transaction
    kept, other = files
    merge(coordinator_client, kept, other)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patientmerge SET reason = 'rewritten'")
    assert PatientMerge.objects.get().reason.startswith("Même personne")


@pytest.mark.parametrize("model_factory", ["consultation", "alert", "prescription"])
def test_a_clinical_record_changes_file_only_by_a_merge(db, model_factory):
    # A signed note, an alert, a prescription: the database lets one change file only towards
    # the file its own was merged into (mass.database.triggers.moved_only_by_a_merge).
    from django.db import DatabaseError, transaction

    from tests import factories
    made = getattr(factories, f"{model_factory.capitalize()}Factory")()
    model = type(made)
    kept = PatientFactory()
    with pytest.raises(DatabaseError, match="changes file only by a merge"), \
            transaction.atomic():
        model.objects.filter(pk=made.pk).update(patient=kept)
    Patient.objects.filter(pk=made.patient_id).update(status=Patient.Status.MERGED,
                                                      merged_into=kept)
    model.objects.filter(pk=made.pk).update(patient=kept)
    made.refresh_from_db()
    assert made.patient_id == kept.pk
