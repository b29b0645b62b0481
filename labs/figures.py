"""The yearly care figures (docs/domain.md "Care figures"): people screened for HCV, found
positive, RNA-positive, treated and cured (SVR12), and the hepatitis B vaccination courses
completed, in a calendar year. Each figure is a set of people, each with the first day of the
year that puts them in it; its count is the number of people, its list the people. Cancelled
records count nowhere; a screening test counts with its current result (the latest
amendment)."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import DateField, Exists, ExpressionWrapper, F, OuterRef
from django.utils.translation import gettext_lazy as _

from consultations.models import ScreeningTest
from labs.models import LabResult, LabTest, Reading, Treatment
from labs.selectors import SVR12_WEEKS, screening_current_result
from patients.models import Patient
from vaccinations.selectors import hbv_courses_completed_in

HCV_TESTS = (LabTest.HCV_ANTIBODY, LabTest.HCV_RNA)


def _first_days(*row_sets) -> dict[int, datetime.date]:
    """{patient_id: the earliest date} over rows of (patient_id, date)."""
    first: dict[int, datetime.date] = {}
    for rows in row_sets:
        for patient_id, day in rows:
            if patient_id not in first or day < first[patient_id]:
                first[patient_id] = day
    return first


def _hcv_screenings(year: int):
    return ScreeningTest.objects.standing().filter(test="hcv", date__year=year)


def _hcv_results(year: int, *tests):
    return LabResult.objects.standing().filter(test__in=tests, sample_date__year=year)


def hcv_screened(year: int) -> dict[int, datetime.date]:
    """An HCV test in the year: a screening test, an antibody or an RNA test."""
    return _first_days(_hcv_screenings(year).values_list("patient_id", "date"),
                       _hcv_results(year, *HCV_TESTS).values_list("patient_id", "sample_date"))


def hcv_positive(year: int) -> dict[int, datetime.date]:
    """A positive HCV test in the year (screening test, antibody or RNA)."""
    return _first_days(
        _hcv_screenings(year).annotate(current=screening_current_result())
        .filter(current=ScreeningTest.Result.POSITIVE).values_list("patient_id", "date"),
        _hcv_results(year, *HCV_TESTS).filter(reading=Reading.POSITIVE)
        .values_list("patient_id", "sample_date"))


def hcv_rna_positive(year: int) -> dict[int, datetime.date]:
    """An HCV RNA (viral load) detected in the year: a chronic infection to treat."""
    return _first_days(_hcv_results(year, LabTest.HCV_RNA).filter(reading=Reading.POSITIVE)
                       .values_list("patient_id", "sample_date"))


def hcv_treated(year: int) -> dict[int, datetime.date]:
    """A DAA treatment started in the year."""
    return _first_days(Treatment.objects.standing()
                       .filter(condition=Treatment.Condition.HCV, started_on__year=year)
                       .values_list("patient_id", "started_on"))


def hcv_cured(year: int) -> dict[int, datetime.date]:
    """SVR12 reached in the year: an HCV RNA not detected, sampled in the year at least 12
    weeks after the end of one of the person's DAA treatments."""
    ended_long_enough_before = Treatment.objects.standing().filter(
        patient_id=OuterRef("patient_id"), condition=Treatment.Condition.HCV,
        ended_on__lte=OuterRef("svr12_from"))
    return _first_days(
        _hcv_results(year, LabTest.HCV_RNA).filter(reading=Reading.NEGATIVE)
        .annotate(svr12_from=ExpressionWrapper(
            F("sample_date") - datetime.timedelta(weeks=SVR12_WEEKS), output_field=DateField()))
        .filter(Exists(ended_long_enough_before))
        .values_list("patient_id", "sample_date"))


def hbv_vaccinated(year: int) -> dict[int, datetime.date]:
    """A hepatitis B vaccination course completed in the year (its last dose given)."""
    return _first_days(hbv_courses_completed_in(year))


@dataclass(frozen=True)
class CareFigure:
    key: str
    label: object
    people: Callable[[int], dict[int, datetime.date]]
    date_label: object


CARE_FIGURES = {figure.key: figure for figure in [
    CareFigure("hcv_screened", _("People screened for HCV"), hcv_screened,
               _("First HCV test")),
    CareFigure("hcv_positive", _("People with a positive HCV test"), hcv_positive,
               _("First positive test")),
    CareFigure("hcv_rna_positive", _("People with HCV RNA detected"), hcv_rna_positive,
               _("First RNA detected")),
    CareFigure("hcv_treated", _("People who started an HCV treatment"), hcv_treated,
               _("Treatment started")),
    CareFigure("hcv_cured", _("People cured of HCV (SVR12)"), hcv_cured,
               _("RNA not detected (SVR12)")),
    CareFigure("hbv_vaccinated", _("People who completed a hepatitis B vaccination"),
               hbv_vaccinated, _("Last dose")),
]}


def care_figures(year: int) -> list[dict]:
    """Every care figure of ``year`` with its count (one query per source)."""
    return [{"key": figure.key, "label": figure.label, "count": len(figure.people(year))}
            for figure in CARE_FIGURES.values()]


def care_figure_people(year: int, key: str) -> list[dict]:
    """The people of one figure, by alias, with the day that puts them in it (two queries)."""
    figure = CARE_FIGURES[key]
    days = figure.people(year)
    patients = Patient.objects.filter(pk__in=days).only("pk", "alias", "file_number")
    return sorted(({"patient": patient, "date": days[patient.pk]} for patient in patients),
                  key=lambda row: (row["date"], row["patient"].alias))
