"""Printed documents of the patient file: the summary (what the reader may see, in the
patient's language) and the answer to "who read my file"."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from mass.audit import audit_list_read, audit_read
from mass.models import AuditEvent
from social.models import IncomeRecord
from tests.conftest import EN, make_staff
from tests.factories import (
    ConsultationFactory,
    PatientFactory,
    PrescriptionFactory,
    ReferralFactory,
    VisitFactory,
    woeringen,
)


def document(response) -> str:
    page = response.content.decode()
    return page[page.index("<article"):page.index("</article>")]


@pytest.fixture
def file_with_records(db):
    """A file with a walk-in, a medical note, a prescription, a referral and an income."""
    author = make_staff(Role.DOCTOR, username="t_sum_author")
    patient = PatientFactory(alias="Kéké", last_name="Dupont", birth_year=1978, language="fr")
    VisitFactory(patient=patient, date=timezone.localdate(), site=woeringen())
    ConsultationFactory(patient=patient, author=author, note="SECRETMEDICALNOTE",
                        signed_at=timezone.now(), signed_by=author)
    PrescriptionFactory(patient=patient, start_date=timezone.localdate(),
                        instructions="SECRETINSTRUCTIONS", prescribed_by=author)
    ReferralFactory(patient=patient, referred_by=author, reason="SECRETREASON")
    IncomeRecord.objects.create(patient=patient, date=timezone.localdate(), source="cpas",
                                recorded_by=author)
    return patient


def summary_url(patient):
    return reverse("patients:summary", args=[patient.pk])


def test_doctor_summary_shows_what_the_doctor_reads(doctor_client, doctor_user,
                                                    file_with_records):
    response = doctor_client.get(summary_url(file_with_records), **EN)
    assert response.status_code == 200
    text = document(response)
    for shown in ["Kéké", "Dupont", "1978", "SECRETMEDICALNOTE", "SECRETINSTRUCTIONS",
                  "SECRETREASON", 'data-summary-section="dispensary"',
                  'data-summary-section="social"', "Rue de Woeringen 16-18",
                  str(doctor_user)]:
        assert shown in text, shown
    event = AuditEvent.objects.get(patient=file_with_records)
    assert (event.action, event.actor, event.object_type) == ("view", doctor_user,
                                                              "patients.patient")
    assert "summary printed" in event.summary
    assert {"dispensary", "social", "consultations"} <= set(event.details["sections"])


def test_psychologist_summary_has_no_dispensing_record(psychologist_client, file_with_records):
    text = document(psychologist_client.get(summary_url(file_with_records), **EN))
    sections = AuditEvent.objects.get(patient=file_with_records).details["sections"]
    assert "dispensary" not in sections and "consultations" in sections
    assert 'data-summary-section="dispensary"' not in text
    assert "SECRETINSTRUCTIONS" not in text and "SECRETMEDICALNOTE" not in text
    # The consultation took place (the timeline shows it to every role); its text is not here.
    assert 'data-summary-section="consultations"' in text and "data-note-hidden" in text
    # Clinicians read a referral's reason and the social situation.
    assert "SECRETREASON" in text and 'data-summary-section="social"' in text


def test_reception_summary_has_no_clinical_record(reception_client, file_with_records):
    text = document(reception_client.get(summary_url(file_with_records), **EN))
    assert "Kéké" in text
    for hidden in ["SECRETMEDICALNOTE", "SECRETINSTRUCTIONS", "SECRETREASON",
                   'data-summary-section="dispensary"', 'data-summary-section="social"']:
        assert hidden not in text, hidden


def test_summary_follows_the_patient_language(doctor_client, file_with_records):
    response = doctor_client.get(summary_url(file_with_records), **EN)
    assert 'lang="fr"' in document(response) and "Consultations" in document(response)
    file_with_records.language = "nl"
    file_with_records.save(update_fields=["language"])
    response = doctor_client.get(summary_url(file_with_records), **EN)
    text = document(response)
    assert 'lang="nl"' in text and "MSOC Brussel" in text
    # The sections rendered by the other apps are in Dutch too; the toolbar stays English.
    assert "Consultaties" in text and "Substitutiebehandeling" in text
    assert "Behandelingen" in text and "Treatment episodes" not in text
    assert re.search(r">\s*Print\s*</button>", response.content.decode())


def test_summary_refused_to_those_who_may_not_read_the_file(client, file_with_records):
    client.force_login(make_staff(username="t_sum_norole"))
    assert client.get(summary_url(file_with_records), **EN).status_code == 404
    client.force_login(make_staff(Role.DOCTOR, username="t_sum_doctor"))
    assert client.get(reverse("patients:summary", args=[999999]), **EN).status_code == 404
    assert client.post(summary_url(file_with_records), **EN).status_code == 405
    assert not AuditEvent.objects.filter(patient=file_with_records).exists()


def test_summary_of_a_merged_stub_is_a_404(doctor_client, file_with_records):
    stub = PatientFactory(alias="Kéké bis", merged_into=file_with_records, status="merged")
    assert doctor_client.get(summary_url(stub), **EN).status_code == 404
    assert not AuditEvent.objects.filter(patient=stub).exists()


def test_the_patient_file_links_the_summary(reception_client, file_with_records):
    page = reception_client.get(file_with_records.get_absolute_url(), **EN).content.decode()
    assert f'href="{summary_url(file_with_records)}"' in page


# --- who read my file -----------------------------------------------------------------------


def reads_url(patient, **query):
    url = reverse("patients:file_reads_print", args=[patient.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def read_file(file_with_records):
    """Two staff members read the file; a dispensing list named it."""
    nurse = make_staff(Role.NURSE, username="t_reads_nurse", first_name="Nadia",
                       last_name="Infirmière")
    psychologist = make_staff(Role.PSYCHOLOGIST, username="t_reads_psy", first_name="Paul",
                              last_name="Psy")
    audit_read(actor=nurse, obj=file_with_records.prescriptions.get(),
               summary="dispensed 60 mg SECRETDOSE")
    audit_read(actor=psychologist, obj=file_with_records, summary="patient file")
    audit_read(actor=psychologist, obj=file_with_records, summary="patient file")
    audit_list_read(actor=nurse, summary="dispensing list SECRETLIST",
                    patients=[file_with_records])
    return file_with_records


def test_coordinator_prints_who_read_the_file(coordinator_client, coordinator_user, read_file):
    before = AuditEvent.objects.count()
    response = coordinator_client.get(reads_url(read_file), **EN)
    assert response.status_code == 200
    # The period asked, by default the last twelve months, prefilled in the date inputs.
    today = timezone.localdate()
    assert f'value="{(today - datetime.timedelta(days=365)).isoformat()}"' in \
        response.content.decode()
    text = document(response)
    # Who, their role, what kind of record, never what it says.
    for shown in ["Nadia Infirmière", "Paul Psy", "Infirmier", "Psychologue",
                  "prescription", "dossier", "Rue de Woeringen 16-18"]:
        assert shown.lower() in text.lower(), shown
    for hidden in ["SECRETDOSE", "SECRETLIST", "SECRETMEDICALNOTE", "60 mg"]:
        assert hidden not in text, hidden
    readers = re.findall(r"<tr><td>([^<]+)</td><td>[^<]*</td><td class=\"text-end\">(\d+)</td>",
                         text)
    assert ("Paul Psy", "2") in readers and ("Nadia Infirmière", "2") in readers
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.actor, event.patient) == ("view", coordinator_user, read_file)
    assert event.summary.startswith("who read file")


def test_who_read_follows_the_patient_language(coordinator_client, read_file):
    read_file.language = "nl"
    read_file.save(update_fields=["language"])
    text = document(coordinator_client.get(reads_url(read_file), **EN))
    assert 'lang="nl"' in text and "Verpleegkundige" in text and "Infirmier" not in text


def test_who_read_is_for_the_coordinator(client, read_file):
    before = AuditEvent.objects.filter(patient=read_file).count()
    for role in [Role.DOCTOR, Role.NURSE, Role.RECEPTION, Role.PSYCHOLOGIST]:
        client.force_login(make_staff(role, username=f"t_reads_{role.value}"))
        assert client.get(reads_url(read_file), **EN).status_code == 403, role
    client.force_login(make_staff(Role.COORDINATOR, username="t_reads_coordinator"))
    assert client.get(reverse("patients:file_reads_print", args=[999999]),
                      **EN).status_code == 404
    assert client.post(reads_url(read_file), **EN).status_code == 405
    assert AuditEvent.objects.filter(patient=read_file).count() == before


def test_who_read_bad_period_prints_nothing(coordinator_client, read_file):
    before = AuditEvent.objects.count()
    for query, message in [({"since": "2026-02-30", "until": "2026-03-01"}, "Enter a valid date"),
                           ({"since": "2026-03-02", "until": "2026-03-01"},
                            "The period ends before it begins."),
                           ({"since": "2026-03-01"}, "This field is required.")]:
        response = coordinator_client.get(reads_url(read_file, **query), **EN)
        page = response.content.decode()
        assert response.status_code == 400 and message in page, query
        assert "<article" not in page
    assert AuditEvent.objects.count() == before


def test_who_read_period_excludes_reads_outside_it(coordinator_client, read_file):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    text = document(coordinator_client.get(
        reads_url(read_file, since=(yesterday - datetime.timedelta(days=30)).isoformat(),
                  until=yesterday.isoformat()), **EN))
    assert "Paul Psy" not in text and "data-file-readers" not in text


def test_the_audit_trail_links_the_answer(coordinator_client, read_file):
    page = coordinator_client.get(reverse("audit_list"), {"patient": read_file.pk},
                                  **EN).content.decode()
    assert f'href="{reads_url(read_file)}"' in page


def test_summary_prints_the_current_screening_result_and_cancelled_records_as_such(
        doctor_client, doctor_user, file_with_records):
    # An HIV result amended from positive to negative prints as negative ("amended"); a test
    # and a walk-in recorded on the wrong file are not given as valid on paper.
    from consultations.models import (
        ScreeningResultAmendment,
        ScreeningTest,
        ScreeningTestCancellation,
    )
    from patients.models import Visit, VisitCancellation
    today = timezone.localdate()
    amended = ScreeningTest.objects.create(
        patient=file_with_records, test="hiv", date=today, result="positive",
        result_date=today, performed_by=doctor_user)
    ScreeningResultAmendment.objects.create(screening=amended, result="negative",
                                            result_date=today, reason="lab error",
                                            author=doctor_user)
    mistaken = ScreeningTest.objects.create(
        patient=file_with_records, test="hcv", date=today, result="pending",
        performed_by=doctor_user)
    ScreeningTestCancellation.objects.create(screening=mistaken, reason="wrong file",
                                             cancelled_by=doctor_user)
    wrong_visit = VisitFactory(patient=file_with_records, date=today - datetime.timedelta(days=1),
                               purpose="social", site=woeringen())
    VisitCancellation.objects.create(visit=wrong_visit, reason="wrong file",
                                     cancelled_by=doctor_user)
    file_with_records.language = "en"
    file_with_records.save(update_fields=["language"])
    text = document(doctor_client.get(summary_url(file_with_records), **EN))
    amended_row = text.split(f'data-summary-screening="{amended.pk}"', 1)[1].split("</tr>")[0]
    # (English is not a document language: a summary for an English speaker is in French.)
    from django.utils import translation
    with translation.override("fr"):
        negative, positive, amended_word = (translation.gettext("Negative"),
                                            translation.gettext("Positive"),
                                            translation.gettext("amended"))
    assert negative in amended_row and amended_word in amended_row
    assert positive not in amended_row
    mistaken_row = text.split(f'data-summary-screening="{mistaken.pk}"', 1)[1].split("</tr>")[0]
    assert "data-cancelled" in text.split(f'data-summary-screening="{mistaken.pk}"', 1)[1][:20]
    assert "<del>" in mistaken_row and "wrong file" in mistaken_row
    visits = text.split("data-summary-visits", 1)[1].split("</table>", 1)[0]
    assert visits.count("<tr>") == 1 + Visit.objects.filter(
        patient=file_with_records, cancellation__isnull=True).count()
    assert (today - datetime.timedelta(days=1)).strftime("%d/%m/%Y") not in visits
