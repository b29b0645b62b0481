"""Audit summaries follow the discipline rule (mass.audit.summaries): the trail shows a reader
a summary only if they could read the record itself; else a neutral label of its kind. And
"who read this file" tells an opening whose text was hidden from a real read."""

import datetime

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dispensary import services as dispensary
from mass.accounts.roles import Role
from mass.audit.summaries import SUMMARY_READERS, summary_for_reader
from mass.models import AuditEvent
from tests.conftest import make_staff
from tests.dispensary.conftest import add_stock, history
from tests.factories import ConsultationFactory, PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

#: The apps whose records the audit trail names.
PROJECT_APPS = ("mass", "patients", "consultations", "dispensary", "social", "reporting",
                "alerts", "outreach", "clinical", "vaccinations", "labs")


def en_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_every_kind_of_record_has_its_summary_readers():
    """A new model gets a decided rule before it is merged (an audit row may name it)."""
    models = {model._meta.label_lower for app in PROJECT_APPS
              for model in apps.get_app_config(app).get_models()}
    assert sorted(models - set(SUMMARY_READERS)) == []
    assert sorted(set(SUMMARY_READERS) - models) == []


def dispensed_and_withheld():
    """A dose given and a dose withheld for intoxication, through the service."""
    add_stock()
    nurse = make_staff(Role.NURSE, username="t_summary_nurse")
    given = PrescriptionFactory(patient=PatientFactory(alias="Given"),
                                start_date=timezone.localdate() - datetime.timedelta(days=20))
    history(given, days_ago=[1])
    dispensary.dispensation_record(prescription=given, part=given.parts()[0],
                                   intoxication_signs=False, actor=nurse)
    withheld = PrescriptionFactory(patient=PatientFactory(alias="Withheld"),
                                   start_date=timezone.localdate() - datetime.timedelta(days=20))
    history(withheld, days_ago=[1])
    dispensary.dispensation_record(prescription=withheld, part=withheld.parts()[0],
                                   intoxication_signs=True, withhold=True,
                                   withheld_reason="intoxication", actor=nurse)
    return given, withheld


def test_the_coordinator_reads_dispensing_record_without_dose_or_reason(coordinator_user):
    dispensed_and_withheld()
    # Stored as written (in English, the reason labelled): the record keeps the dose and
    # the reason.
    stored = list(AuditEvent.objects.filter(object_type="dispensary.dispensation")
                  .values_list("summary", flat=True))
    assert any(summary.startswith("dispensed ") for summary in stored)
    assert any("dose withheld (Signs of intoxication)" in summary for summary in stored)

    html = en_client(coordinator_user).get(reverse("audit_list")).content.decode()
    assert "dispensing record" in html
    assert "dispensed " not in html
    assert "intoxication" not in html


def test_a_doctor_reading_the_trail_reads_the_dose():
    """The same rows, read by someone who holds the trail and reads the dispensing record
    (a coordinator who is also a doctor): in full."""
    dispensed_and_withheld()
    medical_lead = make_staff(Role.COORDINATOR, Role.DOCTOR, username="t_medical_lead")
    html = en_client(medical_lead).get(reverse("audit_list")).content.decode()
    assert "dose withheld (Signs of intoxication)" in html
    assert "dispensed " in html


def test_neutral_label_for_each_reader_outside_the_kind():
    """The rule itself, row by row: a screening test (medical) for a psychologist, a
    prescription for reception; the centre's own rows as they are."""
    patient = PatientFactory()
    psychologist = make_staff(Role.PSYCHOLOGIST)
    reception = make_staff(Role.RECEPTION)
    nurse = make_staff(Role.NURSE)
    screening = AuditEvent(action="create", patient=patient,
                           object_type="consultations.screeningtest", summary="screening HIV")
    prescription = AuditEvent(action="create", patient=patient,
                              object_type="dispensary.prescription",
                              summary="prescription Methadone 60 mg")
    search = AuditEvent(action="search", summary='patient search: "Momo" (1 files)')
    unknown = AuditEvent(action="view", patient=patient, object_type="gone.model",
                         summary="something of a removed kind")
    assert summary_for_reader(screening, user=psychologist) == "screening test"
    assert summary_for_reader(screening, user=nurse) == "screening HIV"
    assert summary_for_reader(prescription, user=reception) == "prescription"
    assert summary_for_reader(search, user=reception) == 'patient search: "Momo" (1 files)'
    assert summary_for_reader(unknown, user=nurse) == "patient file"


def test_who_read_this_file_says_opened_text_not_shown(coordinator_user):
    """Reception opens a medical note: the page shows that it took place, not its text. The
    row says so, and the patient's "who read this file" counts it apart."""
    patient = PatientFactory(alias="Lecteur")
    note = ConsultationFactory(patient=patient, discipline="medical", note="SECRETNOTETEXT",
                               signed_at=timezone.now())
    reception = make_staff(Role.RECEPTION, username="t_opener")
    doctor = make_staff(Role.DOCTOR, username="t_reader")
    opened = en_client(reception).get(reverse("consultations:detail", args=[note.pk]))
    assert opened.status_code == 200 and "SECRETNOTETEXT" not in opened.content.decode()
    read = en_client(doctor).get(reverse("consultations:detail", args=[note.pk]))
    assert "SECRETNOTETEXT" in read.content.decode()
    rows = {row.actor.username: row.details["text_shown"] for row in
            AuditEvent.objects.filter(object_type="consultations.consultation",
                                      action="view", patient=patient)}
    assert rows == {"t_opener": False, "t_reader": True}

    response = en_client(coordinator_user).get(reverse("audit_list"), {"patient": patient.pk})
    html = response.content.decode()
    assert "opened, text not shown" in html
    readers = {row["actor__username"]: row for row in response.context["readers"]}
    assert (readers["t_opener"]["reads"], readers["t_opener"]["hidden"]) == (1, 1)
    assert (readers["t_reader"]["reads"], readers["t_reader"]["hidden"]) == (1, 0)


def test_a_list_page_is_a_read_of_each_patient_it_names(coordinator_user, nurse_user):
    """The dispensing list names its patients in one row: "who read this file" lists the
    nurse for each of them, and the trail filtered on a patient shows the list's row."""
    given, withheld = dispensed_and_withheld()
    assert en_client(nurse_user).get(reverse("dispensary:today")).status_code == 200
    listed = AuditEvent.objects.get(actor=nurse_user, action="view")  # one row for the list
    assert listed.patient is None
    assert {given.patient_id, withheld.patient_id} <= set(listed.details["patients"])

    coordinator = en_client(coordinator_user)
    for patient_id in (given.patient_id, withheld.patient_id):
        response = coordinator.get(reverse("audit_list"), {"patient": patient_id})
        readers = {row["actor__username"] for row in response.context["readers"]}
        assert nurse_user.username in readers
        assert listed in response.context["page"].object_list


def test_the_timeline_says_when_notes_were_hidden(reception_user, doctor_user):
    """The timeline shows that a medical consultation took place to reception, its text only
    to the doctor: reception's row says "text not shown", the doctor's does not."""
    note = ConsultationFactory(discipline="medical", note="TIMELINETEXT",
                               signed_at=timezone.now())
    url = reverse("consultations:timeline", args=[note.patient_id])
    assert "TIMELINETEXT" not in en_client(reception_user).get(url).content.decode()
    assert "TIMELINETEXT" in en_client(doctor_user).get(url).content.decode()
    details = {row.actor_id: row.details for row in
               AuditEvent.objects.filter(action="view", patient=note.patient_id)}
    assert details[reception_user.pk] == {"page": 1, "text_shown": False, "notes_hidden": 1}
    assert details[doctor_user.pk] == {"page": 1}


def test_a_social_action_opened_without_its_notes_says_so(coordinator_user, social_worker_user):
    """The coordinator follows the team's actions, never their notes: the trail shows the
    coordinator's opening as such; the social worker's own is a read."""
    from tests.factories import SocialActionFactory
    action = SocialActionFactory(social_worker=social_worker_user, notes="SOCIALNOTETEXT")
    page = en_client(coordinator_user).get(action.get_absolute_url()).content.decode()
    assert "SOCIALNOTETEXT" not in page
    assert "SOCIALNOTETEXT" in en_client(social_worker_user).get(
        action.get_absolute_url()).content.decode()
    shown = dict(AuditEvent.objects.filter(action="view", object_type="social.socialaction")
                 .values_list("actor__username", "details__text_shown"))
    assert shown == {coordinator_user.username: False, social_worker_user.username: True}
    trail = en_client(coordinator_user).get(reverse("audit_list"),
                                            {"patient": action.patient_id}).content.decode()
    assert "social action Housing: opened, text not shown" in trail
