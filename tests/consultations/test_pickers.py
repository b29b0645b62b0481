"""Naming a person in a form (a group's "add someone", a referral, a consultation without a
file open) searches as the patient search does, and never picks a merged stub; the
consultation form shows the latest notes one may read and the treatment in force."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import GroupAttendance, Referral
from mass.models import AuditEvent
from patients.models import Patient
from tests.conftest import EN
from tests.factories import (
    ConsultationAmendmentFactory,
    ConsultationFactory,
    GroupSessionFactory,
    PatientFactory,
    PrescriptionFactory,
)


@pytest.fixture
def tintins(db):
    """Two Tintins told apart by their birth year, and a Sébastien whose duplicate file was
    merged into his."""
    older = PatientFactory(alias="Tintin", birth_year=1978, sex="M")
    younger = PatientFactory(alias="Tintin", birth_year=1985, sex="M")
    sebastien = PatientFactory(alias="Sébastien")
    PatientFactory(alias="Sébastien", status=Patient.Status.MERGED, merged_into=sebastien)
    return older, younger, sebastien


def add_someone(client, session, text):
    return client.post(reverse("consultations:group_detail", args=[session.pk]),
                       {"patient": text}, **EN)


# --- the group's "add someone" --------------------------------------------------------------


@pytest.mark.parametrize("text,who", [("Tintin 1978", 0), ("tintin 1985", 1),
                                      ("sebastien", 2), ("SÉBASTIEN", 2)])
def test_add_someone_by_alias_and_birth_year_or_without_accents(psychologist_client, tintins,
                                                                text, who):
    session = GroupSessionFactory()
    response = add_someone(psychologist_client, session, text)
    assert response.status_code == 302
    assert list(session.attendances.values_list("patient", flat=True)) == [tintins[who].pk]


def test_add_someone_ambiguous_offers_the_files_told_apart_and_writes_nothing(
        psychologist_client, psychologist_user, tintins):
    older, younger, _ = tintins
    session = GroupSessionFactory()
    response = add_someone(psychologist_client, session, "tintin")
    content = response.content.decode()
    assert response.status_code == 200 and "Choose the person below" in content
    assert f'data-candidate="{older.pk}"' in content and f'data-candidate="{younger.pk}"' in content
    assert "born 1978" in content and "born 1985" in content
    assert not GroupAttendance.objects.exists()
    # The files shown are a search of other people's files: audited, naming them.
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH, actor=psychologist_user)
    assert set(event.details["patients"]) == {older.pk, younger.pk}
    # Choosing one submits its file number: that person attends.
    response = add_someone(psychologist_client, session, older.file_number)
    assert response.status_code == 302
    assert list(session.attendances.values_list("patient", flat=True)) == [older.pk]


def test_a_misspelt_name_is_offered_not_picked(psychologist_client, tintins):
    session = GroupSessionFactory()
    content = add_someone(psychologist_client, session, "Tintn 1978").content.decode()
    assert f'data-candidate="{tintins[0].pk}"' in content
    assert f'data-candidate="{tintins[1].pk}"' not in content
    assert not GroupAttendance.objects.exists()


def test_the_merged_stub_is_never_offered(psychologist_client, tintins):
    session = GroupSessionFactory()
    stub = Patient.objects.get(status=Patient.Status.MERGED)
    content = add_someone(psychologist_client, session, "Sebastie").content.decode()
    assert f'data-candidate="{tintins[2].pk}"' in content
    assert f'data-candidate="{stub.pk}"' not in content
    # Named by its file number, the stub says where its records go; nothing is written.
    content = add_someone(psychologist_client, session, stub.file_number).content.decode()
    assert "This file was merged into Sébastien" in content
    assert not GroupAttendance.objects.exists()


# --- the referral's and the consultation's patient -------------------------------------------


@pytest.mark.parametrize("url_name", ["consultations:referral_create", "consultations:create"])
def test_picking_the_patient_of_a_referral_or_a_consultation(doctor_client, tintins,
                                                             url_name):
    older, _, sebastien = tintins
    url = reverse(url_name)
    response = doctor_client.get(url, {"q": "sebastien"})
    assert response.status_code == 302 and response["Location"] == f"{url}?patient={sebastien.pk}"
    response = doctor_client.get(url, {"q": "Tintin 1978"})
    assert response["Location"] == f"{url}?patient={older.pk}"
    content = doctor_client.get(url, {"q": "tintin"}, **EN).content.decode()
    assert f'href="{url}?patient={older.pk}"' in content and "born 1985" in content
    content = doctor_client.get(url, {"q": "nobody"}, **EN).content.decode()
    assert "No file matches “nobody”." in content


def test_a_referral_picked_by_name_is_recorded_for_that_person(doctor_client, tintins):
    older = tintins[0]
    url = reverse("consultations:referral_create")
    form_url = doctor_client.get(url, {"q": "tintin 1978"})["Location"]
    from tests.factories import PartnerFactory
    partner = PartnerFactory(name="Projet Lama", kind="other")
    response = doctor_client.post(form_url, {
        "patient": older.pk, "partner": partner.pk,
        "date": timezone.localdate().isoformat(), "reason": "Sevrage"})
    assert response.status_code == 302
    assert Referral.objects.get().patient == older


def test_the_referral_picker_is_for_those_who_refer(reception_client, tintins):
    response = reception_client.get(reverse("consultations:referral_create"), {"q": "tintin"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).exists()


# --- what the consultation form shows ---------------------------------------------------------


def consultation_form(client, patient):
    return client.get(reverse("consultations:create") + f"?patient={patient.pk}", **EN)


def test_the_consultation_form_shows_the_latest_notes_one_may_read(doctor_client, doctor_user,
                                                                   staff_factory):
    from mass.accounts.roles import Role
    patient = PatientFactory()
    psychologist = staff_factory(Role.PSYCHOLOGIST)
    today = timezone.localdate()
    medical = ConsultationFactory(patient=patient, discipline="medical",
                                  date=today - datetime.timedelta(days=2),
                                  note="Medical note the doctor reads")
    ConsultationAmendmentFactory(consultation=medical, text="Amended dose")
    ConsultationFactory(patient=patient, discipline="psychological", author=psychologist,
                        note="Psychological note the doctor may not read")
    ConsultationFactory(patient=patient, discipline="medical", is_personal_note=True,
                        note="Private thoughts of a colleague")
    old = ConsultationFactory(patient=patient, discipline="medical",
                              date=today - datetime.timedelta(days=400), note="Old note")
    for days in (3, 4, 5):
        ConsultationFactory(patient=patient, discipline="nursing",
                            date=today - datetime.timedelta(days=days), note=f"Nursing {days}")
    content = consultation_form(doctor_client, patient).content.decode()
    assert "Medical note the doctor reads" in content and "Amended dose" in content
    assert "Psychological note" not in content and "Private thoughts" not in content
    # The latest three only.
    assert content.count("data-context-note=") == 3
    assert "Nursing 3" in content and "Nursing 4" in content and old.note not in content
    event = AuditEvent.objects.filter(actor=doctor_user, patient=patient).latest("id")
    assert event.details["notes_shown"] == [medical.pk] + [
        c.pk for c in patient.consultations.filter(note__in=["Nursing 3", "Nursing 4"])
        .order_by("-date")]


def test_the_consultation_form_shows_the_treatment_in_force_to_prescribers(
        client, doctor_user, psychologist_user):
    patient = PatientFactory()
    today = timezone.localdate()
    PrescriptionFactory(patient=patient, daily_dose=40, start_date=today - datetime.timedelta(
        days=30), course_started_on=today - datetime.timedelta(days=30),
        end_date=today - datetime.timedelta(days=1))
    PrescriptionFactory(patient=patient, daily_dose=70, instructions="Avec jus d'orange")
    client.force_login(doctor_user)
    content = consultation_form(client, patient).content.decode()
    section = content.split("data-prescriptions-in-force", 1)[1].split("</section>", 1)[0]
    assert "70" in section and "Avec jus d&#x27;orange" in section
    assert re.search(r"\b40\b", section) is None
    # A psychologist does not see the dispensary: no treatment section, no instructions.
    client.force_login(psychologist_user)
    content = consultation_form(client, patient).content.decode()
    assert "data-prescriptions-in-force" not in content and "jus d" not in content


@pytest.mark.parametrize("notes", [1, 3])
def test_the_consultation_form_query_count_does_not_grow_with_the_notes(
        doctor_client, django_assert_num_queries, notes):
    patient = PatientFactory()
    PrescriptionFactory(patient=patient)
    for _ in range(notes):
        ConsultationAmendmentFactory(consultation=ConsultationFactory(patient=patient))
    consultation_form(doctor_client, patient)
    with django_assert_num_queries(QUERIES_CONSULTATION_FORM):
        response = consultation_form(doctor_client, patient)
    assert response.content.decode().count("data-context-note=") == notes


# session, user, permissions and roles (one), the patient, the centre (the form's default site),
# the notes one may read and their amendments (2), the prescriptions in force, the audit
# row, the lapse (episodes), the alerts and the clinical app's "ECG due", the form's sites,
# session save (3): the same for 1 note or 3.
QUERIES_CONSULTATION_FORM = 16


def test_a_refused_note_comes_back_with_the_notes_and_the_treatment(doctor_client):
    patient = PatientFactory()
    ConsultationFactory(patient=patient, note="Earlier medical note")
    PrescriptionFactory(patient=patient)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = doctor_client.post(reverse("consultations:create") + f"?patient={patient.pk}", {
        "patient": patient.pk, "discipline": "medical", "form": "individual",
        "date": tomorrow, "note": "Written for tomorrow"}, **EN)
    content = response.content.decode()
    assert response.status_code == 200 and "cannot be later than today" in content
    assert "Earlier medical note" in content and "data-prescriptions-in-force" in content
    assert not patient.consultations.filter(note="Written for tomorrow").exists()
