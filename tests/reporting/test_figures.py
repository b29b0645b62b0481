import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command

from reporting import selectors
from reporting.selectors import FIGURE_KEYS, VERSION_KEYS
from tests.factories import ConsultationFactory, EpisodeFactory, PatientFactory, VisitFactory
from tests.reporting.conftest import EXPECTED_2025

D = datetime.date


def assert_figures(actual: dict, expected: dict):
    if "declared_version" in actual:  # an export: the figures, then the version they are
        assert list(actual)[len(FIGURE_KEYS):] == VERSION_KEYS
        assert actual["declared_version"] is None  # nothing declared: today's records
        actual = {key: actual[key] for key in FIGURE_KEYS}
    assert list(actual) == list(expected) == FIGURE_KEYS
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, abs=1e-12), key
            assert isinstance(actual[key], float), key
        elif isinstance(value, dict):
            assert actual[key] == value, key
            assert list(actual[key]) == list(value), key
        else:
            assert actual[key] == value and type(actual[key]) is int, key


def test_json_export_has_every_figure_of_the_hand_built_year(coordinator_client, history):
    response = coordinator_client.get("/reporting/file-active/2025/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert_figures(response.json(), EXPECTED_2025)


def test_figures_follow_history_not_recorded_kind(history):
    figures = selectors.file_active_figures(2025)
    assert figures.kind_mismatches == 1  # H: recorded as a resumption, first episode


def test_year_before_counts_its_own_days_only(history):
    figures = selectors.file_active_figures(2024).figures
    # B 12-31 (walk-in, take-home dose, group), F 12-30 walk-in and 06-01 consultation.
    assert figures["patient_contacts"] == 3
    assert figures["annual_active_patients"] == 2
    assert figures["activity_days"] == 3
    assert figures["consultations"] == 1
    assert figures["dispensations"] == 1  # B's take-home dose, handed on 31 December
    assert figures["group_attendances"] == 1
    # The week of 1 June: F; ISO week 1 of 2025 (30 Dec - 5 Jan): F and B, on its days
    # in 2024.
    assert figures["weekly_active_patients_avg"] == pytest.approx((1 + 2) / 2)
    assert figures["harm_reduction_contacts"] == 1
    assert figures["harm_reduction_items_handed_out"] == 7
    # Patients in treatment 2024: C only. A's, D's and F's episodes were closed by hand in
    # 2024 and 2025, but the 6-month rule had ended them long before (A in 2020, F in 2022,
    # D in 2023: no contact in the six months after their opening).
    assert figures["patients_in_treatment"] == 1


def test_week_straddling_new_year_counts_days_of_the_year_only(db):
    # 29 Dec 2025 - 4 Jan 2026 is ISO week 1 of 2026.
    a, b = PatientFactory(), PatientFactory()
    VisitFactory(patient=a, date=D(2025, 12, 29))
    VisitFactory(patient=b, date=D(2026, 1, 1))
    VisitFactory(patient=a, date=D(2026, 1, 2))
    figures_2025 = selectors.file_active_figures(2025).figures
    figures_2026 = selectors.file_active_figures(2026).figures
    assert figures_2025["weekly_active_patients_avg"] == 1.0
    assert figures_2026["weekly_active_patients_avg"] == 2.0  # a and b, in 2026 days only
    assert figures_2025["patient_contacts"] == 1 and figures_2026["patient_contacts"] == 2


def test_same_day_by_several_routes_is_one_contact(db):
    patient = PatientFactory()
    VisitFactory(patient=patient, date=D(2025, 5, 5))
    ConsultationFactory(patient=patient, date=D(2025, 5, 5))
    ConsultationFactory(patient=patient, date=D(2025, 5, 5), discipline="social")
    figures = selectors.file_active_figures(2025).figures
    assert figures["patient_contacts"] == 1
    assert figures["consultations"] == 2
    assert figures["daily_consultations_avg"] == 2.0
    assert figures["daily_distinct_patients_avg"] == 1.0


def test_empty_year_gives_zeros_not_errors(db):
    figures = selectors.file_active_figures(2025).figures
    assert figures["annual_active_patients"] == 0
    assert figures["monthly_active_patients_avg"] == 0.0
    assert figures["daily_distinct_patients_avg"] == 0.0
    assert figures["income_in_treatment"] == dict.fromkeys(
        ["pension", "salary", "sickness_benefit", "unemployment", "cpas", "none", "other",
         "unknown"], 0.0)


def test_two_episodes_opened_the_same_day_first_is_new(db):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=D(2025, 3, 1), closed_on=D(2025, 3, 1),
                   closure_reason="other")
    EpisodeFactory(patient=patient, opened_on=D(2025, 3, 1), kind="resumption")
    figures = selectors.file_active_figures(2025).figures
    assert (figures["new_requests"], figures["resumption_requests"]) == (1, 1)


def test_command_prints_the_same_json_as_the_page(coordinator_client, history):
    out = StringIO()
    call_command("file_active", "--year", "2025", stdout=out)
    page = coordinator_client.get("/reporting/file-active/2025/?format=json").content.decode()
    assert out.getvalue() == page
    assert_figures(json.loads(out.getvalue()), EXPECTED_2025)


def test_figures_take_a_constant_number_of_queries(history, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.file_active_figures(2025)
    PatientFactory.create_batch(3)
    for day in range(1, 20):
        VisitFactory(date=D(2025, 2, day))
    with django_assert_num_queries(2):
        selectors.file_active_figures(2025)


def test_page_figures_of_the_year_alone_when_the_year_before_is_read_elsewhere(
        history, django_assert_num_queries):
    # The query's settings, the figures and sites, the income distribution.
    with django_assert_num_queries(3):
        current, before = selectors.file_active_years(2025, year_before=False)
    assert before is None
    alone = selectors.file_active_figures(2025, breakdowns=True)
    assert_figures(current.figures, EXPECTED_2025)
    assert current.breakdowns == {**alone.breakdowns, "sites": selectors.site_breakdown(2025)}


def test_breakdowns_of_the_hand_built_year(history):
    breakdowns = selectors.file_active_figures(2025, breakdowns=True).breakdowns
    months = {row["month"]: (row["patients"], row["consultations"])
              for row in breakdowns["monthly"]}
    assert months == {1: (2, 2), 2: (0, 0), 3: (0, 0), 4: (0, 0), 5: (0, 0), 6: (2, 1),
                      7: (0, 0), 8: (0, 0), 9: (0, 0), 10: (0, 0), 11: (0, 0), 12: (2, 2)}
    assert breakdowns["disciplines"] == [
        {"discipline": "medical", "consultations": 2, "patients": 2},
        {"discipline": "nursing", "consultations": 1, "patients": 1},
        {"discipline": "psychological", "consultations": 1, "patients": 1},
        {"discipline": "social", "consultations": 1, "patients": 1},
    ]
    # A: man born 1980 (45); B: woman born 1995 (30); C: man born 2003 (22); D: sex X,
    # birth year unknown.
    assert breakdowns["people"] == {"sex": {"M": 2, "F": 1, "X": 1},
                                    "age": {"45-54": 1, "25-34": 1, "<25": 1, "unknown": 1}}
    sites = selectors.site_breakdown(2025)
    # Every contact at the centre: walk-ins and consultations there, and C's withheld dose on
    # 06-17 (a dispensation: given at the centre). A's group session on 01-01 had no site, but
    # A's walk-in that day was at the centre: one contact, counted there once.
    assert [(row["site_name"], row["patients"], row["contacts"]) for row in sites] == [
        ("MASS Woeringen", 4, 9)]
