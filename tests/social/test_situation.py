import datetime

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent
from social.models import CpasRecord, HousingRecord, IncomeRecord, InsuranceRecord
from tests.conftest import EN
from tests.factories import HousingRecordFactory, IncomeRecordFactory, PatientFactory


def situation_url(patient):
    return reverse("social:situation", args=[patient.pk])


def correct_url(record):
    return reverse("social:situation_correct",
                   args=[record.patient_id, record.dimension, record.pk])


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_record_change_writes_one_row_per_dimension_and_audits(social_worker_client,
                                                               social_worker_user, patient):
    response = social_worker_client.post(situation_url(patient), {
        "date": days_ago(3).isoformat(), "source": "cpas", "insurance": "preferential",
        "fund": "socialist", "commune": "schaerbeek", "housing": "emergency_shelter",
    }, **EN)

    assert response.status_code == 302
    income = IncomeRecord.objects.get(patient=patient)
    assert (income.source, income.date, income.recorded_by) == ("cpas", days_ago(3),
                                                                social_worker_user)
    assert InsuranceRecord.objects.get(patient=patient).fund == "socialist"
    assert CpasRecord.objects.get(patient=patient).commune == "schaerbeek"
    assert HousingRecord.objects.get(patient=patient).situation == "emergency_shelter"
    assert AuditEvent.objects.filter(patient=patient, action="create",
                                     actor=social_worker_user).count() == 4
    page = social_worker_client.get(response["Location"], **EN).content.decode()
    assert "CPAS/OCMW income" in page and "Schaerbeek / Schaarbeek" in page


def test_record_change_from_the_panel_returns_to_the_patient_file(social_worker_client,
                                                                  patient):
    response = social_worker_client.post(situation_url(patient), {
        "date": days_ago(0).isoformat(), "documents": "lost",
        "next": patient.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    assert patient.identityrecords.get().documents == "lost"


def test_next_elsewhere_is_not_followed(social_worker_client, patient):
    response = social_worker_client.post(situation_url(patient), {
        "date": days_ago(0).isoformat(), "documents": "lost", "next": "https://evil.example/"})
    assert response["Location"] == situation_url(patient)


def test_a_new_situation_keeps_the_earlier_one_in_the_history(social_worker_client, patient):
    for date, source in [(days_ago(400), "none"), (days_ago(10), "salary")]:
        social_worker_client.post(situation_url(patient),
                                  {"date": date.isoformat(), "source": source})

    rows = list(IncomeRecord.objects.filter(patient=patient).order_by("date"))
    assert [r.source for r in rows] == ["none", "salary"]
    page = social_worker_client.get(situation_url(patient), **EN).content.decode()
    assert f'data-history="income-{rows[0].pk}"' in page
    assert f'data-history="income-{rows[1].pk}"' in page
    current = page.split('data-current="income"')[1].split("</tr>")[0]
    assert "Salary" in current and "No own income" not in current


def test_situation_page_as_of_a_past_date_ignores_later_records(social_worker_client, patient):
    IncomeRecordFactory(patient=patient, date=datetime.date(2020, 1, 1), source="cpas")
    IncomeRecordFactory(patient=patient, date=datetime.date(2021, 6, 1), source="salary")

    page = social_worker_client.get(situation_url(patient) + "?as_of=2021-01-01",
                                    **EN).content.decode()

    current = page.split('data-current="income"')[1].split("</tr>")[0]
    assert "CPAS/OCMW income" in current and "Salary" not in current
    assert 'data-as-of="2021-01-01"' in page


def test_situation_page_before_any_record_says_not_recorded(social_worker_client, patient):
    IncomeRecordFactory(patient=patient, date=datetime.date(2021, 6, 1), source="salary")
    page = social_worker_client.get(situation_url(patient) + "?as_of=2020-01-01",
                                    **EN).content.decode()
    current = page.split('data-current="income"')[1].split("</tr>")[0]
    assert "not recorded" in current


def test_situation_page_with_a_bad_as_of_date_shows_today(social_worker_client, patient):
    IncomeRecordFactory(patient=patient, date=days_ago(5), source="salary")
    response = social_worker_client.get(situation_url(patient) + "?as_of=1800-01-01", **EN)
    page = response.content.decode()
    assert response.status_code == 200
    assert "too far in the past" in page
    assert "Salary" in page.split('data-current="income"')[1].split("</tr>")[0]


def test_situation_page_read_is_audited(social_worker_client, social_worker_user, patient):
    social_worker_client.get(situation_url(patient))
    assert AuditEvent.objects.filter(patient=patient, action="view",
                                     actor=social_worker_user).exists()


@pytest.mark.parametrize("data,field,message", [
    ({"source": "cpas", "date": "FUTURE"}, "date", "cannot be dated in the future"),
    ({"commune": "ghent"}, "commune", "Unknown commune"),
    ({}, None, "fill at least one element"),
    ({"fund": "socialist"}, "insurance", "Give the health insurance status with the fund"),
    ({"commune": "ixelles", "other_cpas": "CPAS de Namur"}, "other_cpas",
     "only with “Other”"),
    ({"source": "lottery"}, "source", "Select a valid choice"),
    ({"address": "x" * 251}, "address", "at most 250 characters"),
    ({"source": "cpas", "date": "1850-01-01"}, "date", "too far in the past"),
    ({"source": "cpas", "date": "31/02/2024"}, "date", "Enter a valid date"),
    ({"source": "cpas", "date": ""}, "date", "This field is required"),
])
def test_bad_situation_input_writes_nothing(social_worker_client, patient, data, field,
                                            message):
    data = {"date": days_ago(1).isoformat(), **data}
    if data["date"] == "FUTURE":
        data["date"] = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = social_worker_client.post(situation_url(patient), data, **EN)

    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__")
    assert errors and any(message in e for e in errors), form.errors
    assert message in response.content.decode().replace("&quot;", '"')
    for model in (IncomeRecord, InsuranceRecord, CpasRecord, HousingRecord):
        assert not model.objects.filter(patient=patient).exists()
    assert not AuditEvent.objects.filter(patient=patient, action="create").exists()


def test_other_cpas_is_recorded_with_its_name(social_worker_client, patient):
    social_worker_client.post(situation_url(patient), {
        "date": days_ago(1).isoformat(), "commune": "other", "other_cpas": "CPAS de Namur"})
    record = CpasRecord.objects.get(patient=patient)
    assert (record.commune, record.other_name) == ("other", "CPAS de Namur")


def test_correction_adds_a_row_and_keeps_the_corrected_one(social_worker_client,
                                                          social_worker_user, patient):
    wrong = IncomeRecordFactory(patient=patient, date=days_ago(30), source="pension")

    response = social_worker_client.post(correct_url(wrong), {
        "date": days_ago(20).isoformat(), "source": "sickness_benefit",
        "reason": "Wrong category: it is a disability benefit"}, **EN)

    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.source == "pension" and wrong.date == days_ago(30)  # untouched
    correction = IncomeRecord.objects.get(corrects=wrong)
    assert (correction.source, correction.date, correction.recorded_by) == (
        "sickness_benefit", days_ago(20), social_worker_user)
    assert correction.correction_reason == "Wrong category: it is a disability benefit"
    assert AuditEvent.objects.filter(patient=patient, action="update").exists()
    page = social_worker_client.get(situation_url(patient), **EN).content.decode()
    assert "<del>Pension</del>" in page
    assert "Wrong category: it is a disability benefit" in page
    current = page.split('data-current="income"')[1].split("</tr>")[0]
    assert "Sickness or disability benefit" in current
    # A corrected row is not offered for correction again.
    assert correct_url(wrong) not in page
    assert correct_url(correction) in page


def test_correcting_the_date_only_moves_the_situation(social_worker_client, patient):
    wrong = HousingRecordFactory(patient=patient, date=days_ago(2), situation="squat")
    social_worker_client.post(correct_url(wrong), {
        "date": days_ago(200).isoformat(), "situation": "squat", "reason": "Date mistyped"})
    page = social_worker_client.get(situation_url(patient) + "?as_of="
                                    + days_ago(100).isoformat(), **EN).content.decode()
    assert "Squat" in page.split('data-current="housing"')[1].split("</tr>")[0]


@pytest.mark.parametrize("data,field,message", [
    ({"reason": ""}, "reason", "Say why this is corrected"),
    ({"date": "FUTURE"}, "date", "cannot be dated in the future"),
    ({"source": "pension"}, None, "The correction changes nothing"),
    ({"source": "gambling"}, "source", "Select a valid choice"),
])
def test_bad_correction_writes_nothing(social_worker_client, patient, data, field, message):
    wrong = IncomeRecordFactory(patient=patient, date=days_ago(30), source="pension")
    data = {"date": wrong.date.isoformat(), "source": "salary", "reason": "Typo", **data}
    if data["date"] == "FUTURE":
        data["date"] = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()

    response = social_worker_client.post(correct_url(wrong), data, **EN)

    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__")
    assert errors and any(message in e for e in errors)
    assert IncomeRecord.objects.filter(patient=patient).count() == 1


def test_bad_cpas_correction_says_so(social_worker_client, patient):
    record = CpasRecord.objects.create(patient=patient, date=days_ago(9), commune="jette")
    url = correct_url(record)
    response = social_worker_client.post(url, {"date": record.date.isoformat(),
                                               "commune": "liege", "reason": "x"}, **EN)
    assert "Unknown commune" in response.content.decode()
    response = social_worker_client.post(url, {"date": record.date.isoformat(),
                                               "commune": "jette", "other_name": "CPAS de Mons",
                                               "reason": "x"}, **EN)
    assert "only with “Other”" in response.content.decode().replace("&quot;", '"')
    assert CpasRecord.objects.count() == 1


def test_a_row_is_corrected_only_once(social_worker_client, patient):
    wrong = IncomeRecordFactory(patient=patient, date=days_ago(30), source="pension")
    data = {"date": wrong.date.isoformat(), "source": "salary", "reason": "Typo"}
    social_worker_client.post(correct_url(wrong), data)

    response = social_worker_client.post(correct_url(wrong), {**data, "source": "other"}, **EN)

    assert "already been corrected" in response.content.decode()
    assert IncomeRecord.objects.filter(patient=patient).count() == 2


def test_correction_of_a_row_of_another_patient_is_404(social_worker_client, patient):
    other = IncomeRecordFactory(source="pension")
    url = reverse("social:situation_correct", args=[patient.pk, "income", other.pk])
    assert social_worker_client.get(url).status_code == 404
    url = reverse("social:situation_correct", args=[patient.pk, "salary", other.pk])
    assert social_worker_client.get(url).status_code == 404


def test_situation_history_is_append_only_in_the_database(patient):
    record = IncomeRecordFactory(patient=patient, source="pension")
    with pytest.raises(DatabaseError), transaction.atomic():
        IncomeRecord.objects.filter(pk=record.pk).update(source="salary")
    with pytest.raises(DatabaseError), transaction.atomic():
        IncomeRecord.objects.filter(pk=record.pk).delete()
    record.refresh_from_db()
    assert record.source == "pension"


def test_a_merge_may_move_the_history_to_the_kept_file(patient):
    from django.db import DatabaseError, transaction

    from patients.models import Patient
    record = IncomeRecordFactory(patient=patient, source="pension")
    kept = PatientFactory()
    # Not to any file: only to the one this file was merged into.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        IncomeRecord.objects.filter(pk=record.pk).update(patient=kept)
    Patient.objects.filter(pk=patient.pk).update(status=Patient.Status.MERGED,
                                                 merged_into=kept)
    IncomeRecord.objects.filter(pk=record.pk).update(patient=kept)
    record.refresh_from_db()
    assert record.patient == kept


@pytest.mark.parametrize("role,get_status,can_post", [
    (Role.SOCIAL_WORKER, 200, True),
    (Role.DOCTOR, 200, False),
    (Role.PSYCHIATRIST, 200, False),
    (Role.NURSE, 200, False),
    (Role.PSYCHOLOGIST, 200, False),
    (Role.RECEPTION, 403, False),
    (Role.COORDINATOR, 403, False),
])
def test_situation_page_by_role(client, staff_factory, patient, role, get_status, can_post):
    IncomeRecordFactory(patient=patient, source="unemployment")
    client.force_login(staff_factory(role))

    response = client.get(situation_url(patient), **EN)
    assert response.status_code == get_status
    if get_status == 200:
        assert "Unemployment benefit" in response.content.decode()
        assert ('name="source"' in response.content.decode()) is can_post
    response = client.post(situation_url(patient), {"date": days_ago(1).isoformat(),
                                                    "source": "salary"})
    assert response.status_code == (302 if can_post else 403)
    assert IncomeRecord.objects.filter(patient=patient).count() == (2 if can_post else 1)


def test_correction_refused_to_readers(doctor_client, patient):
    wrong = IncomeRecordFactory(patient=patient, source="pension")
    assert doctor_client.get(correct_url(wrong)).status_code == 403
    response = doctor_client.post(correct_url(wrong), {
        "date": wrong.date.isoformat(), "source": "salary", "reason": "x"})
    assert response.status_code == 403
    assert IncomeRecord.objects.count() == 1


def test_unknown_or_merged_patient_is_404(social_worker_client, patient):
    kept = PatientFactory()
    merged = PatientFactory(status="merged", merged_into=kept)
    assert social_worker_client.get(situation_url(merged)).status_code == 404
    response = social_worker_client.post(situation_url(merged), {
        "date": days_ago(1).isoformat(), "source": "salary"})
    assert response.status_code == 404
    assert social_worker_client.get(
        reverse("social:situation", args=[999999])).status_code == 404
    assert not IncomeRecord.objects.exists()


@pytest.mark.parametrize("rows", [1, 3, 15])
def test_situation_page_constant_queries(social_worker_client, staff_factory,
                                         django_assert_num_queries, rows):
    patient = PatientFactory()
    for i in range(rows):
        worker = staff_factory(Role.SOCIAL_WORKER)
        wrong = IncomeRecordFactory(patient=patient, date=days_ago(10 + i), source="salary",
                                    recorded_by=worker)
        IncomeRecordFactory(patient=patient, date=days_ago(10 + i), source="cpas",
                            recorded_by=worker, corrects=wrong, correction_reason="typo")
        HousingRecordFactory(patient=patient, date=days_ago(10 + i), recorded_by=worker)
    url = situation_url(patient)
    social_worker_client.get(url)
    # Session, user, permissions and roles (one); the patient; one query per dimension (6), each
    # with who recorded it; the patient's alerts (the banner); the audit row; session save (3).
    with django_assert_num_queries(15):
        response = social_worker_client.get(url)
    content = response.content.decode()
    assert content.count('data-history="income-') == 2 * rows
    assert content.count('data-history="housing-') == rows
