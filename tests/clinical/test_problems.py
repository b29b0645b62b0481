"""The problem list: coded (ICD-10) or free-text problems, corrections as new versions, and
who reads psychiatric diagnoses (the psychiatric notes' rule)."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from clinical import icd10, services
from clinical.models import Problem, ProblemVersion
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff, service_refusal
from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Lulu")


def client_of(client, *roles, username=None):
    client.force_login(make_staff(*roles, username=username or f"t_{roles[0].value}"))
    return client


def new_problem(client, patient, **fields):
    data = {"code": "", "label": "", "onset": "", "status": "active",
            "certainty": "confirmed", **fields}
    return client.post(reverse("clinical:problem_create", args=[patient.pk]), data, **EN)


def test_icd10_search_by_code_and_by_words():
    assert ("F11.2", icd10.label("F11.2")) in icd10.search("F112")
    codes = [code for code, _label in icd10.search("opioids dependence")]
    assert "F11.2" in codes
    assert icd10.is_known("f11.2") and not icd10.is_known("F99.9") and not icd10.is_known("V")
    # Words typed in full come first; accents and case do not matter.
    assert [code for code, _label in icd10.search("Hépatitis C")[:2]] == ["B17.1", "B18.2"]


def test_doctor_records_a_coded_problem_with_its_substance(client, patient):
    doctor = client_of(client, Role.DOCTOR)
    response = new_problem(doctor, patient, code="f11.2", label="Dépendance aux opiacés",
                           onset="2020-03-01")
    assert response.status_code == 302
    version = ProblemVersion.objects.get(problem__patient=patient)
    assert (version.code, version.substance, version.problem.discipline) == (
        "F11.2", "F11", "medical")
    assert version.code_label == icd10.label("F11.2")
    assert AuditEvent.objects.filter(object_type="clinical.problem",
                                     summary="problem recorded").count() == 1
    summary = doctor.get(reverse("clinical:summary", args=[patient.pk]), **EN).content.decode()
    assert "F11.2" in summary and "Dépendance aux opiacés" in summary and "opioids" in summary


def test_search_results_fill_the_code_in(client, patient):
    doctor = client_of(client, Role.DOCTOR)
    url = reverse("clinical:problem_create", args=[patient.pk])
    page = doctor.get(url, {"q": "depressive episode"}, **EN).content.decode()
    assert 'data-icd10="F32.1"' in page
    page = doctor.get(url, {"code": "F32.1"}, **EN).content.decode()
    assert 'value="F32.1"' in page


def test_problem_in_free_text_without_a_code(client, patient):
    new_problem(client_of(client, Role.DOCTOR), patient, label="Plaie chronique du pied")
    version = ProblemVersion.objects.get(problem__patient=patient)
    assert (version.code, version.label, version.problem.discipline) == (
        "", "Plaie chronique du pied", "medical")


@pytest.mark.parametrize("fields, field, message", [
    ({"code": "F99.9"}, "code", "F99.9 is not an ICD-10 code"),
    ({"code": "XYZ"}, "code", "XYZ is not an ICD-10 code"),
    ({}, "label", "without an ICD-10 code, say the problem in words"),
    ({"label": "x", "status": "cured"}, "status", "Select a valid choice"),
    ({"label": "x", "certainty": ""}, "certainty", "This field is required"),
    ({"label": "x", "onset": "2999-01-01"}, "onset", "in the future"),
    ({"label": "x", "onset": "31/31/2020"}, "onset", "Enter a valid date"),
])
def test_bad_problem_is_refused_naming_the_field(client, patient, fields, field, message):
    doctor = client_of(client, Role.DOCTOR)
    before = AuditEvent.objects.filter(action="create").count()
    response = new_problem(doctor, patient, **fields)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not Problem.objects.exists() and not ProblemVersion.objects.exists()
    assert AuditEvent.objects.filter(action="create").count() == before


def test_nurse_and_psychologist_do_not_diagnose(client, patient):
    for role in (Role.NURSE, Role.PSYCHOLOGIST):
        response = new_problem(client_of(client, role), patient, label="Anything")
        assert response.status_code == 403
    assert not Problem.objects.exists()
    error = service_refusal(services.problem_record, unchanged=[Problem], patient=patient,
                            label="x", actor=make_staff(Role.NURSE, username="t_n2"))
    assert error.code == "role"


def test_correction_is_a_new_version_and_the_history_shows_both(client, patient):
    doctor = client_of(client, Role.DOCTOR)
    new_problem(doctor, patient, code="F11.2", certainty="provisional")
    problem = Problem.objects.get()
    response = doctor.post(reverse("clinical:problem_correct", args=[problem.pk]), {
        "code": "F11.2", "label": "", "onset": "", "status": "in_remission",
        "certainty": "confirmed", "reason": "Abstinent 12 months"}, **EN)
    assert response.status_code == 302
    versions = list(problem.versions.order_by("id"))
    assert [(v.status, v.certainty) for v in versions] == [
        ("active", "provisional"), ("in_remission", "confirmed")]
    assert versions[1].reason == "Abstinent 12 months"
    page = doctor.get(reverse("clinical:problem_detail", args=[problem.pk]), **EN)
    html = page.content.decode()
    assert "Abstinent 12 months" in html and "Provisional" in html and "In remission" in html
    # The summary is a document in the patient's language (French here).
    summary = doctor.get(reverse("clinical:summary", args=[patient.pk]), **EN).content.decode()
    with translation.override("fr"):
        assert gettext("In remission") in summary and gettext("Provisional") not in summary


def test_correction_without_reason_or_to_the_other_discipline_writes_nothing(client, patient):
    doctor = client_of(client, Role.DOCTOR)
    new_problem(doctor, patient, code="F11.2")
    problem = Problem.objects.get()
    url = reverse("clinical:problem_correct", args=[problem.pk])
    data = {"code": "F11.2", "status": "resolved", "certainty": "confirmed", "reason": ""}
    response = doctor.post(url, data, **EN)
    assert "reason" in response.context["form"].errors
    response = doctor.post(url, {**data, "code": "F32.1", "reason": "Was depression"}, **EN)
    assert "belongs to the other discipline" in " ".join(response.context["form"].errors["code"])
    assert problem.versions.count() == 1


def test_application_role_may_not_change_or_delete_a_version(patient):
    version = services.problem_record(patient=patient, label="Asthme",
                                      actor=make_staff(Role.DOCTOR, username="t_db_doc"))
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        ProblemVersion.objects.filter(pk=version.pk).update(status="resolved")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        ProblemVersion.objects.filter(pk=version.pk).delete()


@pytest.mark.database_owner
def test_database_refuses_to_change_or_delete_a_version_even_for_its_owner(patient):
    version = services.problem_record(patient=patient, label="Asthme",
                                      actor=make_staff(Role.DOCTOR, username="t_db_doc"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ProblemVersion.objects.filter(pk=version.pk).update(status="resolved")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ProblemVersion.objects.filter(pk=version.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Problem.objects.filter(pk=version.problem_id).update(discipline="psychiatric")


@pytest.fixture
def both_problems(patient):
    author = make_staff(Role.PSYCHIATRIST, username="t_author_psy")
    medical = services.problem_record(patient=patient, code="F11.2", label="OPIOIDS-LABEL",
                                      actor=author).problem
    psychiatric = services.problem_record(patient=patient, code="F20.0",
                                          label="SCHIZO-LABEL", actor=author).problem
    free_psy = services.problem_record(patient=patient, label="FREE-PSY-LABEL",
                                       psychiatric=True, actor=author).problem
    return medical, psychiatric, free_psy


@pytest.mark.parametrize("role, reads_medical, reads_psychiatric", [
    (Role.NURSE, True, False),
    (Role.DOCTOR, True, False),
    (Role.PSYCHIATRIST, True, True),
    (Role.PSYCHOLOGIST, False, True),
])
def test_who_reads_psychiatric_diagnoses(client, patient, both_problems, role, reads_medical,
                                         reads_psychiatric):
    medical, psychiatric, free_psy = both_problems
    reader = client_of(client, role, username=f"t_reader_{role.value}")
    summary = reader.get(reverse("clinical:summary", args=[patient.pk]), **EN).content.decode()
    file = reader.get(reverse("patients:detail", args=[patient.pk]), **EN).content.decode()
    for page in (summary, file):
        assert ("OPIOIDS-LABEL" in page) is reads_medical
        assert ("SCHIZO-LABEL" in page) is reads_psychiatric
        assert ("FREE-PSY-LABEL" in page) is reads_psychiatric
    detail = reader.get(reverse("clinical:problem_detail", args=[psychiatric.pk]), **EN)
    assert detail.status_code == (200 if reads_psychiatric else 404)


def test_doctor_reads_the_psychiatric_diagnosis_they_recorded(client, patient):
    doctor = make_staff(Role.DOCTOR, username="t_own_doc")
    problem = services.problem_record(patient=patient, code="F32.1", actor=doctor).problem
    client.force_login(doctor)
    assert client.get(reverse("clinical:problem_detail", args=[problem.pk])).status_code == 200
    client.force_login(make_staff(Role.DOCTOR, username="t_other_doc"))
    assert client.get(reverse("clinical:problem_detail", args=[problem.pk])).status_code == 404


def test_problem_pages_refuse_other_roles_and_get_on_post(client, patient, both_problems):
    medical = both_problems[0]
    for role in (Role.RECEPTION, Role.SOCIAL_WORKER, Role.COORDINATOR):
        reader = client_of(client, role, username=f"t_no_{role.value}")
        assert reader.get(reverse("clinical:summary", args=[patient.pk])).status_code == 403
        assert reader.get(reverse("clinical:problem_detail",
                                  args=[medical.pk])).status_code == 403
    doctor = client_of(client, Role.DOCTOR, username="t_doc_405")
    assert doctor.post(reverse("clinical:problem_detail", args=[medical.pk])).status_code == 405
    assert doctor.post(reverse("clinical:summary", args=[patient.pk])).status_code == 405
