"""The "as of a date" selectors the patient file and the yearly figures rely on."""

import datetime

import pytest

from patients.models import Patient
from social.models import IncomeRecord
from social.selectors import income_as_of, income_distribution, situation_as_of
from tests.factories import HousingRecordFactory, IncomeRecordFactory, PatientFactory

pytestmark = pytest.mark.django_db

D = datetime.date
END_2016 = D(2016, 12, 31)
ALL_KEYS = {"pension", "salary", "sickness_benefit", "unemployment", "cpas", "none", "other",
            "unknown"}


def test_income_as_of_takes_the_latest_record_on_or_before_the_date(patient):
    IncomeRecordFactory(patient=patient, date=D(2015, 3, 1), source="none")
    IncomeRecordFactory(patient=patient, date=D(2016, 12, 31), source="cpas")
    IncomeRecordFactory(patient=patient, date=D(2017, 1, 1), source="salary")

    assert income_as_of(patient=patient, as_of=END_2016).source == "cpas"
    assert income_as_of(patient=patient, as_of=D(2016, 12, 30)).source == "none"
    assert income_as_of(patient=patient, as_of=D(2015, 2, 28)) is None
    assert income_as_of(patient=patient).source == "salary"


def test_income_as_of_applies_corrections(patient):
    wrong = IncomeRecordFactory(patient=patient, date=D(2016, 5, 1), source="pension")
    IncomeRecord.objects.create(patient=patient, date=D(2016, 5, 1), source="unemployment",
                                corrects=wrong, correction_reason="typo")
    assert income_as_of(patient=patient, as_of=END_2016).source == "unemployment"


def test_a_correction_moved_after_the_date_leaves_the_earlier_situation(patient):
    IncomeRecordFactory(patient=patient, date=D(2015, 1, 1), source="none")
    wrong = IncomeRecordFactory(patient=patient, date=D(2016, 5, 1), source="salary")
    IncomeRecord.objects.create(patient=patient, date=D(2017, 5, 1), source="salary",
                                corrects=wrong, correction_reason="wrong year")
    assert income_as_of(patient=patient, as_of=END_2016).source == "none"


def test_same_day_records_the_last_recorded_wins(patient):
    IncomeRecordFactory(patient=patient, date=D(2016, 5, 1), source="pension")
    IncomeRecordFactory(patient=patient, date=D(2016, 5, 1), source="other")
    assert income_as_of(patient=patient, as_of=END_2016).source == "other"


def test_situation_as_of_gives_every_dimension(patient):
    HousingRecordFactory(patient=patient, date=D(2016, 1, 1), situation="squat")
    HousingRecordFactory(patient=patient, date=D(2017, 1, 1), situation="own_or_rented")
    situation = situation_as_of(patient=patient, as_of=END_2016)
    assert set(situation) == {"income", "insurance", "cpas", "housing", "identity", "address"}
    assert situation["housing"].situation == "squat"
    assert situation["income"] is None


def make_group(sources_by_date):
    patients = []
    for records in sources_by_date:
        patient = PatientFactory()
        for date, source in records:
            IncomeRecordFactory(patient=patient, date=date, source=source)
        patients.append(patient)
    return patients


def test_income_distribution_counts_each_patient_once_under_the_latest_source(
        django_assert_num_queries):
    patients = make_group([
        [(D(2015, 1, 1), "none"), (D(2016, 6, 1), "cpas")],   # cpas
        [(D(2016, 2, 1), "cpas")],                            # cpas
        [(D(2016, 2, 1), "salary"), (D(2017, 1, 1), "none")],  # salary: 2017 ignored
        [(D(2017, 3, 1), "pension")],                         # unknown: only after
        [],                                                   # unknown: nothing
        [(D(2010, 1, 1), "unknown")],                         # unknown: recorded as such
        [(D(2016, 12, 31), "sickness_benefit")],              # on the date counts
        [(D(2016, 1, 1), "unemployment")],
    ])

    with django_assert_num_queries(1):
        result = income_distribution(patient_ids=[p.pk for p in patients], as_of=END_2016)

    assert set(result) == ALL_KEYS
    assert result == {"cpas": 25.0, "salary": 12.5, "unknown": 37.5, "sickness_benefit": 12.5,
                      "unemployment": 12.5, "pension": 0.0, "none": 0.0, "other": 0.0}
    assert all(isinstance(v, float) for v in result.values())


def test_income_distribution_accepts_a_queryset_and_only_counts_it():
    group = make_group([[(D(2016, 1, 1), "salary")], [(D(2016, 1, 1), "other")],
                        [(D(2016, 1, 1), "other")]])
    make_group([[(D(2016, 1, 1), "pension")]])  # outside the group

    in_group = Patient.objects.filter(pk__in=[p.pk for p in group])
    assert income_distribution(patient_ids=in_group, as_of=END_2016)["other"] == 66.7
    ids = Patient.objects.filter(pk__in=[p.pk for p in group]).values_list("pk", flat=True)
    result = income_distribution(patient_ids=ids, as_of=END_2016)
    assert (result["salary"], result["other"], result["pension"]) == (33.3, 66.7, 0.0)


def test_income_distribution_counts_a_patient_listed_twice_once():
    (patient,) = make_group([[(D(2016, 1, 1), "salary")]])
    (other,) = make_group([[(D(2016, 1, 1), "cpas")]])
    result = income_distribution(patient_ids=[patient.pk, patient.pk, other.pk], as_of=END_2016)
    assert (result["salary"], result["cpas"]) == (50.0, 50.0)


def test_income_distribution_applies_corrections():
    (patient,) = make_group([[(D(2016, 1, 1), "salary")]])
    wrong = patient.incomerecords.get()
    IncomeRecord.objects.create(patient=patient, date=D(2016, 1, 1), source="none",
                                corrects=wrong, correction_reason="typo")
    assert income_distribution(patient_ids=[patient.pk], as_of=END_2016)["none"] == 100.0


def test_income_distribution_of_nobody_is_all_zero():
    result = income_distribution(patient_ids=[], as_of=END_2016)
    assert result == dict.fromkeys(ALL_KEYS, 0.0)
    result = income_distribution(patient_ids=Patient.objects.none(), as_of=END_2016)
    assert result == dict.fromkeys(ALL_KEYS, 0.0)


def test_income_distribution_over_patients_in_treatment_given_as_episode_ids():
    from patients.models import Episode
    from tests.factories import EpisodeFactory
    treated, _untreated = make_group([[(D(2016, 1, 1), "cpas")], [(D(2016, 1, 1), "salary")]])
    EpisodeFactory(patient=treated, opened_on=D(2016, 3, 1))
    EpisodeFactory(patient=treated, opened_on=D(2015, 3, 1), closed_on=D(2015, 9, 1),
                   closure_reason="lost_contact")
    in_treatment = Episode.objects.filter(opened_on__lte=END_2016).values("patient_id")
    result = income_distribution(patient_ids=in_treatment, as_of=END_2016)
    assert (result["cpas"], result["salary"]) == (100.0, 0.0)
