"""A small hand-built history whose figures are known (see EXPECTED_2025).

Patients A-H. The year under test is 2025: 1 January is a Wednesday, so ISO week 1 of 2025
starts on Monday 30 December 2024, and 29-31 December 2025 belong to ISO week 1 of 2026.

Contacts of 2025 (patient, day: what was recorded):
  A 01-01 walk-in + consultation + dispensation + group attendance (one contact)
  A 12-31 two consultations (one contact)              A 03-03 cancelled dispensation (none)
  B 01-02 walk-in   B 01-05 (Sunday) consultation      B 06-16 walk-in
  C 06-15 (Sunday) consultation   C 06-16 walk-in + dispensation   C 06-17 withheld dose
  D 12-29 (Monday) walk-in + diazepam dispensation
Outside 2025: B 2024-12-31 walk-in and take-home dose; F 2024-12-30 walk-in (same ISO week as
1 January 2025); E 2026-01-01 walk-in (same ISO week as 29 December 2025).
"""

import datetime
from types import SimpleNamespace

import pytest

from patients.models import Episode
from tests.factories import (
    ConsultationFactory,
    DispensationFactory,
    EpisodeFactory,
    GroupAttendanceFactory,
    GroupSessionFactory,
    IncomeRecordFactory,
    PatientFactory,
    PrescriptionFactory,
    UserFactory,
    VisitFactory,
    woeringen,
)

D = datetime.date

EXPECTED_2025 = {
    "year": 2025,
    "annual_active_patients": 4,
    "monthly_active_patients_avg": 2.0,
    "weekly_active_patients_avg": 1.75,
    "daily_distinct_patients_avg": 9 / 8,
    "daily_consultations_avg": 5 / 8,
    "new_requests": 3,
    "resumption_requests": 2,
    "patient_contacts": 9,
    "consultations": 5,
    "activity_days": 8,
    # A, B, G, H. The 6-month rule (docs/domain.md) ended C's episode of May 2024 and D's
    # of January 2023 as of their opening day: no contact in the six months after.
    "patients_in_treatment": 4,
    "income_in_treatment": {"pension": 0.0, "salary": 0.0, "sickness_benefit": 0.0,
                            "unemployment": 25.0, "cpas": 25.0, "none": 25.0, "other": 0.0,
                            "unknown": 25.0},
    "income_in_treatment_counts": {"pension": 0, "salary": 0, "sickness_benefit": 0,
                                   "unemployment": 1, "cpas": 1, "none": 1, "other": 0,
                                   "unknown": 1},
    "dispensations": 3,
    "patients_on_substitution": 2,
    "group_attendances": 1,
    "harm_reduction_contacts": 2,
    "harm_reduction_items_handed_out": 25,
    "harm_reduction_items_returned": 10,
}


def _closed(patient, opened, closed, kind="new"):
    return EpisodeFactory(patient=patient, opened_on=opened, kind=kind, closed_on=closed,
                          closure_reason=Episode.ClosureReason.LOST_CONTACT)


@pytest.fixture
def history(db):
    from dispensary.models import DispensationCancellation, HoldReview, Product
    from patients.services import harm_reduction_log

    staff = UserFactory(username="t_history")
    centre = woeringen()
    p = SimpleNamespace(**{name: PatientFactory(alias=f"Patient {name}", file_number=f"F-{name}",
                                                sex=sex, birth_year=birth_year)
                           for name, sex, birth_year in [
                               ("A", "M", 1980), ("B", "F", 1995), ("C", "M", 2003),
                               ("D", "X", None), ("E", "M", 1970), ("F", "F", 1960),
                               ("G", "U", 1990), ("H", "M", 1985)]})
    # Walk-ins.
    for patient, day in [(p.A, D(2025, 1, 1)), (p.B, D(2024, 12, 31)), (p.B, D(2025, 1, 2)),
                         (p.B, D(2025, 6, 16)), (p.C, D(2025, 6, 16)), (p.D, D(2025, 12, 29)),
                         (p.E, D(2026, 1, 1)), (p.F, D(2024, 12, 30))]:
        VisitFactory(patient=patient, date=day, site=centre)
    # Consultations.
    for patient, day, discipline in [
            (p.A, D(2025, 1, 1), "medical"), (p.A, D(2025, 12, 31), "psychological"),
            (p.A, D(2025, 12, 31), "social"), (p.B, D(2025, 1, 5), "medical"),
            (p.C, D(2025, 6, 15), "nursing"), (p.F, D(2024, 6, 1), "medical")]:
        ConsultationFactory(patient=patient, date=day, discipline=discipline, author=staff,
                            site=centre)
    # Groups.
    GroupAttendanceFactory(patient=p.A, session=GroupSessionFactory(date=D(2025, 1, 1)))
    GroupAttendanceFactory(patient=p.B, session=GroupSessionFactory(date=D(2024, 12, 31)))
    # Dispensing.
    rx_a = PrescriptionFactory(patient=p.A, start_date=D(2024, 12, 1))
    DispensationFactory(prescription=rx_a, date=D(2025, 1, 1))
    # Two months without a dose: given after a doctor's review of that day, as the database
    # requires (dispensary/triggers.py).
    review = HoldReview.objects.create(patient=p.A, prescription=rx_a, substance="methadone",
                                       reviewed_on=D(2025, 3, 3), missed_days=60,
                                       decision="resume", full_dose_confirmed=True,
                                       note="Seen.", reviewed_by=staff)
    cancelled = DispensationFactory(prescription=rx_a, date=D(2025, 3, 3), review=review)
    DispensationCancellation.objects.create(dispensation=cancelled, reason="wrong patient",
                                            cancelled_at=cancelled.dispensed_at,
                                            cancelled_by=staff)
    rx_b = PrescriptionFactory(patient=p.B, start_date=D(2024, 12, 1))
    DispensationFactory(prescription=rx_b, date=D(2024, 12, 31), dose_date=D(2025, 1, 1))
    rx_c = PrescriptionFactory(patient=p.C, start_date=D(2025, 6, 1))
    DispensationFactory(prescription=rx_c, date=D(2025, 6, 16))
    DispensationFactory(prescription=rx_c, date=D(2025, 6, 17), status="withheld", quantity=0,
                        intoxication_signs=True, withheld_reason="intoxication")
    diazepam = Product.objects.get(name="Diazepam tablets")
    rx_d = PrescriptionFactory(patient=p.D, product=diazepam, daily_dose=10,
                               start_date=D(2025, 12, 1))
    DispensationFactory(prescription=rx_d, date=D(2025, 12, 29))
    # Harm reduction: two hand-outs in 2025 (one anonymous, of two kinds of material), one
    # in 2024.
    harm_reduction_log(site=centre, date=D(2025, 3, 10), actor=staff,
                       quantities={"syringe": (10, 5), "stericup": (10, 0)})
    harm_reduction_log(site=centre, date=D(2025, 3, 10), actor=staff, patient=p.F,
                       quantities={"syringe": (5, 5)})
    harm_reduction_log(site=centre, date=D(2024, 3, 10), actor=staff,
                       quantities={"syringe": (7, 0)})
    # Episodes.
    _closed(p.A, D(2020, 3, 1), D(2024, 6, 30))
    EpisodeFactory(patient=p.A, opened_on=D(2025, 2, 1), kind="resumption")
    _closed(p.B, D(2025, 1, 2), D(2025, 3, 1))
    EpisodeFactory(patient=p.B, opened_on=D(2025, 11, 1), kind="resumption")
    EpisodeFactory(patient=p.C, opened_on=D(2024, 5, 1))
    _closed(p.D, D(2023, 1, 1), D(2025, 1, 1))
    EpisodeFactory(patient=p.E, opened_on=D(2026, 1, 1))
    _closed(p.F, D(2022, 1, 1), D(2024, 12, 31))
    EpisodeFactory(patient=p.G, opened_on=D(2025, 12, 31))
    # Recorded as a resumption, but the person has no earlier episode: a new request.
    EpisodeFactory(patient=p.H, opened_on=D(2025, 7, 1), kind="resumption")
    # Income.
    IncomeRecordFactory(patient=p.A, date=D(2024, 1, 1), source="salary")
    IncomeRecordFactory(patient=p.A, date=D(2025, 6, 1), source="cpas")
    IncomeRecordFactory(patient=p.B, date=D(2025, 3, 1), source="unemployment")
    IncomeRecordFactory(patient=p.B, date=D(2026, 1, 15), source="salary")  # after year end
    wrong = IncomeRecordFactory(patient=p.D, date=D(2025, 2, 1), source="sickness_benefit")
    IncomeRecordFactory(patient=p.D, date=D(2025, 2, 1), source="pension", corrects=wrong,
                        correction_reason="typing error")
    IncomeRecordFactory(patient=p.G, date=D(2025, 12, 31), source="none")
    IncomeRecordFactory(patient=p.H, date=D(2026, 1, 1), source="other")  # after year end
    p.staff = staff
    return p
