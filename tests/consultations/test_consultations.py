"""Recording, editing, signing and amending consultation notes."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from consultations.models import Consultation, ConsultationAmendment
from mass.accounts.roles import Role
from mass.models import AuditEvent, Site
from patients.models import Patient
from tests.conftest import EN
from tests.consultations.conftest import days_ago
from tests.factories import ConsultationAmendmentFactory, ConsultationFactory, PatientFactory


def form_data(**overrides):
    data = {"discipline": "medical", "form": "individual", "date": timezone.localdate().isoformat(),
            "time": "10:30", "duration_minutes": "20", "note": "Feels better, dose unchanged.",
            "site": Site.objects.get(name="MASS Woeringen").pk}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create_url(patient):
    return reverse("consultations:create") + f"?patient={patient.pk}"


# --- create ---------------------------------------------------------------------------------


def test_doctor_records_a_consultation(doctor_client, doctor_user):
    patient = PatientFactory()

    response = doctor_client.post(create_url(patient), form_data())

    consultation = Consultation.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == consultation.get_absolute_url()
    assert consultation.author == doctor_user
    assert consultation.note == "Feels better, dose unchanged."
    assert consultation.duration_minutes == 20 and consultation.time == datetime.time(10, 30)
    assert consultation.signed_at is None and not consultation.is_locked
    audit = AuditEvent.objects.get(action="create", object_id=str(consultation.pk))
    assert audit.patient == patient and "Feels better" not in audit.summary


def test_consultation_signed_at_once(doctor_client, doctor_user):
    patient = PatientFactory()
    doctor_client.post(create_url(patient), form_data(sign="on"))
    consultation = Consultation.objects.get(patient=patient)
    assert consultation.signed_by == doctor_user and consultation.is_locked


def test_create_form_offers_the_disciplines_of_the_roles(client, staff_factory):
    client.force_login(staff_factory(Role.PSYCHOLOGIST))
    response = client.get(create_url(PatientFactory()), **EN)
    choices = [value for value, _ in response.context["form"].fields["discipline"].choices]
    assert choices == ["psychological", "other"]


def test_discipline_of_another_profession_is_refused(psychologist_client):
    patient = PatientFactory()
    response = psychologist_client.post(create_url(patient), form_data(discipline="medical"),
                                        **EN)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Consultation.objects.exists()


def test_reception_cannot_record_a_consultation(reception_client):
    patient = PatientFactory()
    assert reception_client.get(create_url(patient)).status_code == 403
    assert reception_client.post(create_url(patient), form_data()).status_code == 403
    assert not Consultation.objects.exists()


def test_quick_entry_without_patient_asks_for_one(doctor_client):
    patient = PatientFactory(file_number="Q-123")
    response = doctor_client.get(reverse("consultations:create"), **EN)
    assert "Which patient?" in response.content.decode()

    response = doctor_client.get(reverse("consultations:create") + "?q=q-123")
    assert response["Location"] == create_url(patient)

    response = doctor_client.get(reverse("consultations:create") + "?q=nobody", **EN)
    assert "No file matches “nobody”." in response.content.decode()


def test_unknown_patient_is_404(doctor_client):
    assert doctor_client.get(reverse("consultations:create") + "?patient=999999").status_code == 404
    assert doctor_client.get(reverse("consultations:create") + "?patient=abc").status_code == 404


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides,message", [
    ({"date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()},
     "The date cannot be later than today."),
    ({"duration_minutes": "-5"}, "A duration is at least 1 minute."),
    ({"duration_minutes": "0"}, "A duration is at least 1 minute."),
    ({"duration_minutes": "100000"}, "A consultation lasts at most 480 minutes."),
    ({"duration_minutes": "abc"}, "Give the duration as a number of minutes."),
    ({"date": "2016-02-30"}, "Enter a valid date."),
    ({"discipline": None}, "This field is required."),
])
def test_bad_consultation_input_writes_nothing(doctor_client, overrides, message):
    patient = PatientFactory()
    audit_before = AuditEvent.objects.count()

    response = doctor_client.post(create_url(patient), form_data(**overrides), **EN)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Consultation.objects.exists()
    # Nothing but the read of the file the form shows again (mass.audit.audit_read).
    assert list(AuditEvent.objects.order_by("pk")[audit_before:]
                .values_list("action", "patient_id")) == [("view", patient.pk)]


def test_consultation_on_a_merged_file_is_refused(doctor_client):
    kept = PatientFactory(alias="Kept")
    merged = PatientFactory(status=Patient.Status.MERGED, merged_into=kept)

    response = doctor_client.post(create_url(merged), form_data(), **EN)

    assert "This file was merged into Kept" in response.content.decode()
    assert not Consultation.objects.exists()


def test_database_refuses_absurd_duration(db):
    consultation = ConsultationFactory.build(patient=PatientFactory(), author=None,
                                             duration_minutes=5000)
    with pytest.raises(DatabaseError), transaction.atomic():
        consultation.save()


# --- edit before signature ------------------------------------------------------------------


def test_author_edits_an_open_note(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user, date=days_ago(1), note="first")

    response = doctor_client.post(reverse("consultations:update", args=[consultation.pk]),
                                  form_data(date=days_ago(1).isoformat(), note="second"))

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.note == "second"
    assert AuditEvent.objects.filter(action="update", object_id=str(consultation.pk)).exists()


def test_only_the_author_edits(client, staff_factory):
    consultation = ConsultationFactory(author=staff_factory(Role.DOCTOR), note="first")
    client.force_login(staff_factory(Role.DOCTOR))
    url = reverse("consultations:update", args=[consultation.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(note="other")).status_code == 403
    consultation.refresh_from_db()
    assert consultation.note == "first"


def test_editing_a_signed_note_is_refused(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user, note="original",
                                       signed_at=timezone.now(), signed_by=doctor_user)
    url = reverse("consultations:update", args=[consultation.pk])

    response = doctor_client.post(url, form_data(note="rewritten"), follow=True, **EN)

    assert "This note is signed: add an amendment instead." in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.note == "original"


def test_note_is_locked_automatically_at_the_end_of_the_next_day(doctor_client, doctor_user):
    yesterday = ConsultationFactory(author=doctor_user, date=days_ago(1), note="y")
    older = ConsultationFactory(author=doctor_user, date=days_ago(2), note="o")
    assert not yesterday.is_locked and older.is_locked

    doctor_client.post(reverse("consultations:update", args=[older.pk]),
                       form_data(date=days_ago(2).isoformat(), note="changed"))

    older.refresh_from_db()
    assert older.note == "o" and older.signed_at is None


def test_sign_due_notes_signs_the_old_ones_only(doctor_user):
    today = ConsultationFactory(author=doctor_user)
    older = ConsultationFactory(author=doctor_user, date=days_ago(3))
    imported = ConsultationFactory(author=None, author_name="Dr Ancien", imported=True,
                                   date=days_ago(400))

    out = io.StringIO()
    call_command("sign_due_notes", stdout=out)

    today.refresh_from_db()
    older.refresh_from_db()
    assert out.getvalue().startswith("1 note(s)")
    assert today.signed_at is None
    assert older.signed_at is not None and older.signed_by is None
    imported.refresh_from_db()
    assert imported.signed_at is None and imported.is_locked  # imported: locked as it came
    with pytest.raises(DatabaseError), transaction.atomic():
        Consultation.objects.filter(pk=older.pk).update(note="tampered")


# --- sign -----------------------------------------------------------------------------------


def test_author_signs(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user)
    response = doctor_client.post(reverse("consultations:sign", args=[consultation.pk]))
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.signed_by == doctor_user and consultation.signed_at is not None


def test_sign_is_post_only(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user)
    response = doctor_client.get(reverse("consultations:sign", args=[consultation.pk]))
    assert response.status_code == 405


def test_another_clinician_cannot_sign(client, staff_factory):
    consultation = ConsultationFactory(author=staff_factory(Role.DOCTOR))
    client.force_login(staff_factory(Role.DOCTOR))
    assert client.post(reverse("consultations:sign", args=[consultation.pk])).status_code == 403
    consultation.refresh_from_db()
    assert consultation.signed_at is None


def test_signed_note_cannot_be_signed_twice(doctor_client, doctor_user):
    signed_at = timezone.now() - datetime.timedelta(hours=2)
    consultation = ConsultationFactory(author=doctor_user, signed_at=signed_at,
                                       signed_by=doctor_user)
    response = doctor_client.post(reverse("consultations:sign", args=[consultation.pk]),
                                  follow=True, **EN)
    assert "already signed" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.signed_at == signed_at


def test_notes_to_sign_listed_for_their_author(doctor_client, doctor_user, staff_factory):
    mine = ConsultationFactory(author=doctor_user, note="MINE")
    ConsultationFactory(author=doctor_user, date=days_ago(5), note="OLD")
    ConsultationFactory(author=staff_factory(Role.DOCTOR), note="THEIRS")

    response = doctor_client.get(reverse("consultations:list"))

    content = response.content.decode()
    assert list(response.context["to_sign"]) == [mine]
    assert f'data-to-sign="{mine.pk}"' in content
    assert "THEIRS" not in content


# --- amend ----------------------------------------------------------------------------------


def signed(author, **kwargs):
    return ConsultationFactory(author=author, note="ORIGINAL TEXT", signed_at=timezone.now(),
                               signed_by=author, **kwargs)


def test_amendment_keeps_the_original(doctor_client, doctor_user):
    consultation = signed(doctor_user)

    response = doctor_client.post(reverse("consultations:amend", args=[consultation.pk]),
                                  {"reason": "Wrong dose written", "text": "Dose is 60 mg."})

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.note == "ORIGINAL TEXT"
    amendment = ConsultationAmendment.objects.get(consultation=consultation)
    assert (amendment.reason, amendment.text, amendment.author) == (
        "Wrong dose written", "Dose is 60 mg.", doctor_user)
    page = doctor_client.get(consultation.get_absolute_url()).content.decode()
    assert "ORIGINAL TEXT" in page and "Dose is 60 mg." in page and "Wrong dose written" in page


@pytest.mark.parametrize("data,message", [
    ({"reason": "", "text": "Dose is 60 mg."}, "Give the reason for the amendment."),
    ({"reason": "   ", "text": "Dose is 60 mg."}, "Give the reason for the amendment."),
    ({"reason": "Typo", "text": ""}, "Write the amendment."),
])
def test_amendment_without_reason_or_text_writes_nothing(doctor_client, doctor_user, data,
                                                         message):
    consultation = signed(doctor_user)
    response = doctor_client.post(reverse("consultations:amend", args=[consultation.pk]), data,
                                  **EN)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ConsultationAmendment.objects.exists()


def test_open_note_is_edited_not_amended(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user)
    response = doctor_client.post(reverse("consultations:amend", args=[consultation.pk]),
                                  {"reason": "r", "text": "t"}, follow=True, **EN)
    assert "not signed yet" in response.content.decode()
    assert not ConsultationAmendment.objects.exists()


def test_colleague_of_the_discipline_amends_an_imported_note(client, staff_factory):
    consultation = ConsultationFactory(author=None, author_name="Dr Ancien", imported=True,
                                       signed_at=timezone.now(), discipline="medical",
                                       date=datetime.date(2015, 3, 2))
    doctor = staff_factory(Role.DOCTOR)
    client.force_login(doctor)
    client.post(reverse("consultations:amend", args=[consultation.pk]),
                {"reason": "Allergy missing", "text": "Allergic to penicillin."})
    assert consultation.amendments.get().author == doctor

    nurse = staff_factory(Role.NURSE)  # reads medical notes, does not write them
    client.force_login(nurse)
    assert client.post(reverse("consultations:amend", args=[consultation.pk]),
                       {"reason": "x", "text": "y"}).status_code == 403
    assert consultation.amendments.count() == 1


def test_database_keeps_the_original_text(doctor_user):
    consultation = signed(doctor_user)
    amendment = ConsultationAmendmentFactory(consultation=consultation)

    for attempt in [
        lambda: Consultation.objects.filter(pk=consultation.pk).update(note="rewritten"),
        lambda: Consultation.objects.filter(pk=consultation.pk).update(signed_at=None),
        lambda: Consultation.objects.filter(pk=consultation.pk).update(discipline="other"),
        lambda: Consultation.objects.filter(pk=consultation.pk).delete(),
        lambda: ConsultationAmendment.objects.filter(pk=amendment.pk).update(text="rewritten"),
        lambda: ConsultationAmendment.objects.filter(pk=amendment.pk).delete(),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()

    consultation.refresh_from_db()
    amendment.refresh_from_db()
    assert consultation.note == "ORIGINAL TEXT" and consultation.signed_at is not None
    assert amendment.text.startswith("Amendment text")


def test_open_notes_are_not_deleted_either(doctor_user):
    consultation = ConsultationFactory(author=doctor_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        consultation.delete()


def test_merge_may_move_a_signed_note(doctor_user):
    from patients.models import Patient
    consultation = signed(doctor_user)
    kept = PatientFactory()
    # (The merge marks the file it empties first: a note changes file only towards the
    # file its own was merged into.)
    Patient.objects.filter(pk=consultation.patient_id).update(status=Patient.Status.MERGED,
                                                              merged_into=kept)
    Consultation.objects.filter(pk=consultation.pk).update(patient=kept)
    consultation.refresh_from_db()
    assert consultation.patient == kept and consultation.note == "ORIGINAL TEXT"


def test_reading_a_consultation_is_audited(doctor_client, doctor_user):
    consultation = signed(doctor_user)
    doctor_client.get(consultation.get_absolute_url())
    event = AuditEvent.objects.get(action="view", object_id=str(consultation.pk))
    assert event.patient_id == consultation.patient_id and event.actor == doctor_user


def test_my_consultations_page_constant_queries(doctor_client, doctor_user,
                                                django_assert_num_queries):
    url = reverse("consultations:list")
    ConsultationFactory(author=doctor_user)
    doctor_client.get(url)  # warm the session and permission caches as every other page does
    # 10 with the read row naming the patients of the page (one INSERT, audit_list_read).
    with django_assert_num_queries(10):
        doctor_client.get(url)
    ConsultationFactory.create_batch(30, author=doctor_user)
    with django_assert_num_queries(10):
        response = doctor_client.get(url)
    assert len(response.context["page"].object_list) == 31


def test_imported_note_is_locked_in_the_database(db):
    consultation = ConsultationFactory(author=None, author_name="Dr Ancien", imported=True,
                                       note="IMPORTED", date=datetime.date(2015, 1, 5))
    with pytest.raises(DatabaseError), transaction.atomic():
        Consultation.objects.filter(pk=consultation.pk).update(note="changed")
    assert consultation.is_locked


@pytest.mark.parametrize("amendments", [1, 3])
def test_consultation_page_constant_queries_with_its_amendments(
        doctor_client, doctor_user, staff_factory, django_assert_num_queries, amendments):
    consultation = signed(doctor_user)
    for _ in range(amendments):
        ConsultationAmendmentFactory(consultation=consultation,
                                     author=staff_factory(Role.DOCTOR))
    url = consultation.get_absolute_url()
    doctor_client.get(url)
    # Session, user, permissions and roles (one); the consultation, its amendments with their
    # authors; the patient's alerts (the banner) and the clinical app's "ECG due" beside
    # them; the audit row; session save (3).
    with django_assert_num_queries(11):
        response = doctor_client.get(url)
    assert response.content.decode().count("Amendment text") == amendments
