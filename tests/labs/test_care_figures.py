import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultations.services import screening_result_amend, screening_test_cancel
from labs import figures
from mass.models import AuditEvent
from patients.selectors import months_after
from tests.conftest import EN
from tests.factories import (
    LabResultFactory,
    PatientFactory,
    ScreeningTestFactory,
    TreatmentFactory,
    VaccinationCourseFactory,
    VaccinationDoseFactory,
)

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1


def day(month: int, dom: int = 15, year: int = YEAR) -> datetime.date:
    return datetime.date(year, month, dom)


@pytest.fixture
def cascade_year(doctor_user):
    """People at each step of the HCV cascade in YEAR, and others who must not count."""
    people = {name: PatientFactory(alias=name) for name in (
        "screened_negative", "antibody_positive", "rna_positive", "treated", "cured",
        "amended_positive", "cancelled", "last_year", "vaccinated", "vaccinating")}
    ScreeningTestFactory(patient=people["screened_negative"], date=day(2), result="negative",
                         result_date=day(2))
    LabResultFactory(patient=people["antibody_positive"], test="hcv_antibody",
                     reading="positive", sample_date=day(3))
    LabResultFactory(patient=people["rna_positive"], test="hcv_rna", reading="positive",
                     value=Decimal(1e5), unit="IU/mL", sample_date=day(4))
    TreatmentFactory(patient=people["treated"], started_on=day(5))
    # Treated the year before, ended in January, RNA not detected 12 weeks later: cured.
    TreatmentFactory(patient=people["cured"], started_on=day(10, year=YEAR - 1),
                     ended_on=day(1, 10))
    LabResultFactory(patient=people["cured"], test="hcv_rna", reading="negative",
                     sample_date=day(1, 10) + datetime.timedelta(weeks=12))
    # A negative screening amended to positive counts with its current result.
    amended = ScreeningTestFactory(patient=people["amended_positive"], date=day(6),
                                   result="negative", result_date=day(6))
    screening_result_amend(screening=amended, result="positive", result_date=day(7),
                           reason="Lab letter", actor=doctor_user)
    cancelled = ScreeningTestFactory(patient=people["cancelled"], date=day(6),
                                     result="positive", result_date=day(6),
                                     performed_by=doctor_user)
    screening_test_cancel(screening=cancelled, reason="Wrong file", actor=doctor_user)
    LabResultFactory(patient=people["last_year"], test="hcv_antibody", reading="positive",
                     sample_date=day(12, year=YEAR - 1))
    done = VaccinationCourseFactory(patient=people["vaccinated"], schedule="standard")
    for number, months in ((1, 0), (2, 1), (3, 6)):
        VaccinationDoseFactory(course=done, number=number, date=months_after(day(1), months))
    ongoing = VaccinationCourseFactory(patient=people["vaccinating"], schedule="accelerated")
    for number, days in ((1, 0), (2, 7), (3, 21)):
        VaccinationDoseFactory(course=ongoing, number=number,
                               date=day(3) + datetime.timedelta(days=days))
    return people


def test_each_figure_counts_its_people(cascade_year):
    people = {key: {patient for patient in figure.people(YEAR)}
              for key, figure in figures.CARE_FIGURES.items()}
    ids = {name: patient.pk for name, patient in cascade_year.items()}
    assert people["hcv_screened"] == {ids[n] for n in (
        "screened_negative", "antibody_positive", "rna_positive", "cured", "amended_positive")}
    assert people["hcv_positive"] == {ids[n] for n in (
        "antibody_positive", "rna_positive", "amended_positive")}
    assert people["hcv_rna_positive"] == {ids["rna_positive"]}
    assert people["hcv_treated"] == {ids["treated"]}
    assert people["hcv_cured"] == {ids["cured"]}
    assert people["hbv_vaccinated"] == {ids["vaccinated"]}


def test_rna_negative_too_soon_after_the_end_is_not_a_cure():
    patient = PatientFactory()
    TreatmentFactory(patient=patient, started_on=day(1), ended_on=day(3, 1))
    LabResultFactory(patient=patient, test="hcv_rna", reading="negative",
                     sample_date=day(3, 1) + datetime.timedelta(weeks=11))
    assert patient.pk not in figures.hcv_cured(YEAR)


def test_figures_page_for_coordinator_counts_without_lists(coordinator_client, cascade_year):
    response = coordinator_client.get(reverse("labs:care_figures", args=[YEAR]), **EN)
    assert response.status_code == 200
    counts = {row["key"]: row["count"] for row in response.context["figures"]}
    assert counts == {key: len(figure.people(YEAR))
                      for key, figure in figures.CARE_FIGURES.items()}
    assert reverse("labs:care_figure_list", args=[YEAR, "hcv_positive"]) not in \
        response.content.decode()
    listing = coordinator_client.get(reverse("labs:care_figure_list",
                                             args=[YEAR, "hcv_positive"]))
    assert listing.status_code == 403
    active = coordinator_client.get(reverse("reporting:file_active", args=[YEAR]))
    assert "data-care-figures" in active.content.decode()


def test_figure_list_names_the_people_for_the_doctor_and_is_audited(doctor_client,
                                                                    cascade_year):
    response = doctor_client.get(reverse("labs:care_figure_list",
                                         args=[YEAR, "hcv_positive"]), **EN)
    assert response.status_code == 200
    shown = {row["patient"].alias for row in response.context["rows"]}
    assert shown == {"antibody_positive", "rna_positive", "amended_positive"}
    event = AuditEvent.objects.filter(summary_code__startswith="care figures").latest("at")
    assert set(event.details["patients"]) == {cascade_year[name].pk for name in shown}


def test_unknown_figure_and_year_are_404(doctor_client):
    assert doctor_client.get(reverse("labs:care_figure_list",
                                     args=[YEAR, "nothing"])).status_code == 404
    assert doctor_client.get(reverse("labs:care_figures",
                                     args=[YEAR + 5])).status_code == 404


def test_figures_are_not_for_nurses_nor_reception(nurse_client, reception_client):
    assert nurse_client.get(reverse("labs:care_figures", args=[YEAR])).status_code == 403
    assert reception_client.get(reverse("labs:care_figures", args=[YEAR])).status_code == 403


def test_figure_list_queries_do_not_grow(doctor_client):
    url = reverse("labs:care_figure_list", args=[YEAR, "hcv_screened"])

    def count() -> tuple[int, int]:
        doctor_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = doctor_client.get(url)
        return len(captured), len(response.context["rows"])

    LabResultFactory(test="hcv_antibody", sample_date=day(2))
    one, rows = count()
    assert rows == 1
    for month in (3, 4):
        LabResultFactory(test="hcv_antibody", sample_date=day(month))
    assert count() == (one, 3)
