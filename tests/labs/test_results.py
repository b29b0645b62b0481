import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from consultations.services import screening_result_amend
from labs.models import LabImport, LabResult, Treatment
from mass.models import AuditEvent
from tests.conftest import EN
from tests.factories import (
    LabResultFactory,
    PatientFactory,
    ScreeningTestFactory,
    TreatmentFactory,
)

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return today() - datetime.timedelta(days=n)


def writes() -> tuple[int, int]:
    return LabResult.objects.count(), AuditEvent.objects.exclude(action="view").count()


# --- entering a result -------------------------------------------------------------------


def test_nurse_enters_a_viral_load_shown_on_the_file(nurse_client, nurse_user):
    patient = PatientFactory()
    response = nurse_client.post(
        reverse("labs:result_create") + f"?patient={patient.pk}",
        {"test": "hcv_rna", "sample_date": days_ago(2).isoformat(), "reading": "positive",
         "value": "1250000", "unit": "IU/mL", "reference_high": "15",
         "laboratory": "LHUB-ULB"})
    assert response.status_code == 302
    result = LabResult.objects.get(patient=patient)
    assert (result.test, result.reading, result.value, result.unit, result.recorded_by) == (
        "hcv_rna", "positive", Decimal("1250000"), "IU/mL", nurse_user)
    page = nurse_client.get(reverse("patients:detail", args=[patient.pk]), **EN).content.decode()
    assert f'data-result="{result.pk}"' in page
    assert "data-out-of-range" in page
    assert "RNA positive: treatment to start" in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"value": "3.2", "unit": ""}, "unit", "Give the unit"),
    ({"sample_date": "future"}, "sample_date", "cannot be later than today"),
    ({"reading": ""}, "reading", "Give the result"),
    ({"test": "hcv_genotype", "reading": ""}, "genotype", "Give the genotype"),
    ({"reference_low": "10", "reference_high": "2"}, "reference_high", "ends below"),
])
def test_bad_result_refused_on_its_field_and_nothing_written(nurse_client, data, field,
                                                             message):
    patient = PatientFactory()
    posted = {"test": "anti_hbs", "sample_date": days_ago(1).isoformat(),
              "reading": "positive", "laboratory": "LHUB-ULB", **data}
    if posted["sample_date"] == "future":
        posted["sample_date"] = (today() + datetime.timedelta(days=1)).isoformat()
    before = writes()
    response = nurse_client.post(reverse("labs:result_create") + f"?patient={patient.pk}",
                                 posted, **EN)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert writes() == before


def test_urine_drug_screen_on_the_dispensary_page_for_the_doctor_only(client, role_users):
    patient = PatientFactory()
    LabResultFactory(patient=patient, test="urine_drug_screen", reading="positive",
                     substances=["cocaine", "benzodiazepines"], sample_date=days_ago(3))
    for role in ("doctor", "nurse"):
        client.force_login(role_users[role])
        page = client.get(reverse("dispensary:patient", args=[patient.pk]), **EN)
        assert page.status_code == 200
        shown = "data-drug-screens" in page.content.decode()
        assert shown == (role == "doctor"), role
        if shown:
            assert "Cocaine, Benzodiazepines" in page.content.decode()


def test_result_cancelled_by_its_author_stays_struck_through(nurse_client, nurse_user):
    result = LabResultFactory(recorded_by=nurse_user, sample_date=days_ago(5))
    response = nurse_client.post(reverse("labs:result_cancel", args=[result.pk]),
                                 {"reason": "Wrong file"})
    assert response.status_code == 302
    assert result.cancellation.cancelled_by == nurse_user
    page = nurse_client.get(reverse("patients:detail", args=[result.patient.pk]))
    assert 'data-cancelled' in page.content.decode()
    assert LabResult.objects.standing().filter(pk=result.pk).count() == 0


def test_results_are_append_only_in_the_database():
    result = LabResultFactory()
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)), \
            transaction.atomic():
        LabResult.objects.filter(pk=result.pk).update(reading="negative")


def test_lab_results_are_medical(client, role_users):
    from mass.accounts.roles import Role
    result = LabResultFactory(sample_date=days_ago(1))
    for role, user in role_users.items():
        client.force_login(user)
        form = client.get(reverse("labs:result_create") + f"?patient={result.patient.pk}")
        file = client.get(reverse("patients:detail", args=[result.patient.pk]))
        medical = role in (Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST)
        assert form.status_code == (200 if medical else 403), role
        assert (f'data-result="{result.pk}"' in file.content.decode()) == medical, role


def test_patient_file_and_summary_queries_do_not_grow_with_records(doctor_client):
    """The same number of queries with 1 and with 3 results, treatments and screening
    tests, on the file and on the printed summary."""
    patient = PatientFactory()

    def add(n):
        LabResultFactory(patient=patient, sample_date=days_ago(n + 1))
        TreatmentFactory(patient=patient, started_on=days_ago(n + 1))
        ScreeningTestFactory(patient=patient, date=days_ago(n + 1), result="positive",
                             result_date=days_ago(n + 1))

    def count(url):
        doctor_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            doctor_client.get(url)
        return len(captured)

    add(0)
    urls = [reverse("patients:detail", args=[patient.pk]),
            reverse("patients:summary", args=[patient.pk])]
    one = [count(url) for url in urls]
    add(1)
    add(2)
    assert [count(url) for url in urls] == one


# --- the cascade ---------------------------------------------------------------------------


def test_hcv_cascade_reads_the_screening_test_with_its_amendment(doctor_client, doctor_user):
    """The screening records of issue 14 are the cascade's first step, read where they are:
    their amendment gives the current result, and their history stays on their page."""
    patient = PatientFactory()
    screening = ScreeningTestFactory(patient=patient, date=days_ago(30), result="negative",
                                     result_date=days_ago(29), performed_by=doctor_user)
    screening_result_amend(screening=screening, result="positive", result_date=days_ago(20),
                           reason="Lab letter", actor=doctor_user)
    page = doctor_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    assert "antibody positive: RNA to test" in page.content.decode()
    history = doctor_client.get(reverse("consultations:screening_result",
                                        args=[screening.pk]), **EN).content.decode()
    assert "data-amendment" in history


def test_hcv_cascade_to_svr12(doctor_client, doctor_user):
    patient = PatientFactory()
    LabResultFactory(patient=patient, test="hcv_antibody", reading="positive",
                     sample_date=days_ago(300))
    LabResultFactory(patient=patient, test="hcv_rna", reading="positive", value=Decimal(5e5),
                     unit="IU/mL", sample_date=days_ago(290))
    LabResultFactory(patient=patient, test="hcv_genotype", reading="", genotype="3",
                     sample_date=days_ago(290))
    response = doctor_client.post(reverse("labs:treatment_create") + f"?patient={patient.pk}",
                                  {"condition": "hcv", "regimen": "sof_vel",
                                   "started_on": days_ago(250).isoformat()})
    assert response.status_code == 302
    treatment = Treatment.objects.get(patient=patient)
    response = doctor_client.post(reverse("labs:treatment_end", args=[treatment.pk]),
                                  {"ended_on": days_ago(166).isoformat()})
    assert response.status_code == 302
    page = doctor_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    assert "treated, SVR12 to check" in page.content.decode()
    LabResultFactory(patient=patient, test="hcv_rna", reading="negative",
                     sample_date=days_ago(60))
    page = doctor_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    assert "SVR12: cured" in page.content.decode()
    # The printed summary is in the patient's language (French here).
    summary = doctor_client.get(reverse("patients:summary", args=[patient.pk]), **EN)
    with translation.override("fr"):
        assert f"{gettext('SVR12')}: {gettext('cured')}" in summary.content.decode()


def test_treatment_end_written_once(doctor_client):
    treatment = TreatmentFactory(started_on=days_ago(100), ended_on=days_ago(16))
    response = doctor_client.post(reverse("labs:treatment_end", args=[treatment.pk]),
                                  {"ended_on": days_ago(10).isoformat()})
    assert response.status_code == 200 and response.context["form"] is None
    treatment.refresh_from_db()
    assert treatment.ended_on == days_ago(16)
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)), \
            transaction.atomic():
        Treatment.objects.filter(pk=treatment.pk).update(ended_on=days_ago(5))


def test_treatment_before_its_start_end_refused(doctor_client):
    treatment = TreatmentFactory(started_on=days_ago(10))
    response = doctor_client.post(reverse("labs:treatment_end", args=[treatment.pk]),
                                  {"ended_on": days_ago(20).isoformat()}, **EN)
    assert "before the start" in response.context["form"].errors["ended_on"][0]
    treatment.refresh_from_db()
    assert treatment.ended_on is None


def test_hiv_cascade_test_confirmation_care(doctor_client):
    patient = PatientFactory()
    ScreeningTestFactory(patient=patient, test="hiv", date=days_ago(40), result="positive",
                         result_date=days_ago(40))
    LabResultFactory(patient=patient, test="hiv_confirmation", reading="positive",
                     sample_date=days_ago(30))
    page = doctor_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    assert "confirmation: Positive" in page.content.decode()
    doctor_client.post(reverse("labs:treatment_create") + f"?patient={patient.pk}",
                       {"condition": "hiv", "regimen": "art", "centre": "CHU Saint-Pierre",
                        "started_on": days_ago(10).isoformat()})
    page = doctor_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    assert 'data-cascade-where="hiv">in care' in page.content.decode()


# --- the import of a lab's file ------------------------------------------------------------


def upload(text: str, name: str = "lhub-2026-12.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


HEADER = "file_number;test;sample_date;result;value;unit;reference_low;reference_high;laboratory\n"


def test_import_writes_every_line(doctor_client, doctor_user):
    first, second = PatientFactory(), PatientFactory()
    text = HEADER + (
        f"{first.file_number};hcv_rna;{days_ago(3)};détecté;250000;IU/mL;;15;LHUB\n"
        f"{second.file_number};urine_drug_screen;{days_ago(2)};cocaine+opiates;;;;;LHUB\n"
        f"{second.file_number};hcv_genotype;{days_ago(2)};1a;;;;;LHUB\n")
    response = doctor_client.post(reverse("labs:import"), {"file": upload(text)})
    assert response.status_code == 302
    imported = LabImport.objects.get()
    assert (imported.rows, imported.imported_by) == (3, doctor_user)
    results = {r.test: r for r in LabResult.objects.filter(imported_from=imported)}
    assert results["hcv_rna"].reading == "positive"
    assert results["urine_drug_screen"].substances == ["cocaine", "opiates"]
    assert results["hcv_genotype"].genotype == "1a"


def test_import_with_errors_writes_nothing_and_names_file_line_column(doctor_client):
    patient = PatientFactory()
    future = today() + datetime.timedelta(days=3)
    text = HEADER + (
        f"{patient.file_number};hcv_rna;{days_ago(3)};positive;250000;IU/mL;;;LHUB\n"
        f"X999999;hcv_rna;{days_ago(3)};positive;;;;;LHUB\n"
        f"{patient.file_number};anti_hbs;{future};positive;12;;;;LHUB\n")
    before = writes()
    response = doctor_client.post(reverse("labs:import"), {"file": upload(text)}, **EN)
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert any("lhub-2026-12.csv, line 3, column file_number: unknown file number X999999"
               in e for e in errors)
    assert any("line 4, column sample_date" in e for e in errors)
    assert any("line 4, column unit" in e for e in errors)
    assert writes() == before
    assert not LabImport.objects.exists()


def test_import_of_values_too_long_for_their_fields_writes_nothing_and_says_where(
        doctor_client):
    """What the database would refuse (a DataError, a server error) is refused as every other
    error of the file: where, and why, and nothing written."""
    patient = PatientFactory()
    number = patient.file_number
    text = HEADER + (
        f"{number};hcv_rna;{days_ago(3)};positive;250000;IU/mL;;;LHUB\n"
        f"{number};hcv_rna;{days_ago(3)};positive;250000;{'u' * 21};;;LHUB\n"
        f"{number};hcv_rna;{days_ago(3)};positive;;;;;{'L' * 121}\n"
        f"{number};hcv_rna;{days_ago(3)};positive;1.23456;IU/mL;;;LHUB\n"
        f"{number};hcv_rna;{days_ago(3)};positive;;;0.0001;;LHUB\n")
    before = writes()
    response = doctor_client.post(reverse("labs:import"), {"file": upload(text)}, **EN)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "lhub-2026-12.csv, line 3, column unit: " in errors and "at most 20" in errors
    assert "line 4, column laboratory: " in errors and "at most 120" in errors
    assert "line 5, column value: " in errors and "3 decimal places" in errors
    assert "line 6, column reference_low: " in errors
    assert writes() == before
    assert not LabImport.objects.exists()


def test_same_file_imported_twice_is_refused_naming_the_first_import(doctor_client,
                                                                    doctor_user):
    patient = PatientFactory()
    text = HEADER + f"{patient.file_number};hbsag;{days_ago(1)};negative;;;;;LHUB\n"
    doctor_client.post(reverse("labs:import"), {"file": upload(text)})
    first = LabImport.objects.get()
    before = writes()

    # The same bytes under another name: the lab sent it twice, or it was saved twice.
    response = doctor_client.post(reverse("labs:import"),
                                  {"file": upload(text, name="copy.csv")}, **EN)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "already imported" in errors and first.file_name in errors
    assert (doctor_user.get_full_name() or doctor_user.get_username()) in errors
    assert timezone.localtime(first.imported_at).strftime("%Y") in errors
    assert writes() == before
    assert LabImport.objects.count() == 1
    assert LabResult.objects.filter(patient=patient).count() == 1


def test_import_is_for_doctors(client, role_users):
    for role, user in role_users.items():
        client.force_login(user)
        status = client.get(reverse("labs:import")).status_code
        assert status == (200 if role in ("doctor", "psychiatrist") else 403), role


def test_import_command_shares_the_rules(tmp_path, doctor_user):
    from django.core.management import CommandError, call_command
    patient = PatientFactory()
    path = tmp_path / "lab.csv"
    path.write_text(HEADER + f"{patient.file_number};hbsag;{days_ago(1)};negative;;;;;LHUB\n")
    call_command("import_lab_results", str(path), "--user", doctor_user.username)
    assert LabResult.objects.get(patient=patient).test == "hbsag"
    path.write_text(HEADER + f"NOPE;hbsag;{days_ago(1)};negative;;;;;LHUB\n")
    # The command speaks the site's language (French); the message is looked for in English.
    with translation.override("en"), pytest.raises(CommandError,
                                                   match="unknown file number NOPE"):
        call_command("import_lab_results", str(path), "--user", doctor_user.username)
    assert LabResult.objects.count() == 1


def test_a_merge_moves_results_treatments_and_vaccinations_to_the_kept_file(
        coordinator_user):
    from patients.services import patient_merge
    from tests.factories import VaccinationCourseFactory
    kept, merged = PatientFactory(), PatientFactory()
    result = LabResultFactory(patient=merged, sample_date=days_ago(3))
    treatment = TreatmentFactory(patient=merged, started_on=days_ago(3))
    course = VaccinationCourseFactory(patient=merged)
    patient_merge(kept=kept, merged=merged, reason="Same person", actor=coordinator_user)
    for record in (result, treatment, course):
        record.refresh_from_db()
        assert record.patient_id == kept.pk


def test_a_result_is_not_moved_to_another_file_but_by_a_merge():
    result = LabResultFactory()
    other = PatientFactory()
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)), \
            transaction.atomic():
        LabResult.objects.filter(pk=result.pk).update(patient=other)


def test_cancel_links_only_for_the_author_or_a_doctor(client, role_users):
    author = role_users["nurse"]
    mine = LabResultFactory(recorded_by=author, sample_date=days_ago(1))
    theirs = LabResultFactory(patient=mine.patient, sample_date=days_ago(2))
    file = reverse("patients:detail", args=[mine.patient.pk])
    client.force_login(author)
    page = client.get(file).content.decode()
    assert reverse("labs:result_cancel", args=[mine.pk]) in page
    assert reverse("labs:result_cancel", args=[theirs.pk]) not in page
    client.force_login(role_users["doctor"])
    page = client.get(file).content.decode()
    assert reverse("labs:result_cancel", args=[theirs.pk]) in page


def test_all_results_page_lists_every_result_with_the_same_queries(nurse_client, role_users,
                                                                     client):
    patient = PatientFactory()
    url = reverse("labs:patient_results", args=[patient.pk])

    def count() -> tuple[int, int]:
        nurse_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = nurse_client.get(url)
        return len(captured), len(response.context["results"])

    LabResultFactory(patient=patient, sample_date=days_ago(400))
    one, rows = count()
    assert rows == 1
    for n in range(2):
        LabResultFactory(patient=patient, sample_date=days_ago(n + 1))
    assert count() == (one, 3)
    client.force_login(role_users["psychologist"])
    assert client.get(url).status_code == 404


def test_timeline_shows_results_and_doses_to_medical_readers_only(client, role_users):
    from tests.factories import VaccinationDoseFactory
    result = LabResultFactory(sample_date=days_ago(4), test="hcv_rna", reading="negative")
    VaccinationDoseFactory(course__patient=result.patient, date=days_ago(2), batch="TLB42")
    url = reverse("consultations:timeline", args=[result.patient.pk])
    client.force_login(role_users["nurse"])
    page = client.get(url, **EN).content.decode()
    assert "HCV RNA (viral load)" in page and "TLB42" in page
    client.force_login(role_users["psychologist"])
    page = client.get(url, **EN).content.decode()
    assert "HCV RNA" not in page and "TLB42" not in page
