"""What reporting reads from the dispensary: contacts and the yearly figures."""

import datetime

from dispensary import selectors, services
from tests.dispensary.conftest import day
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory


def test_contact_days_given_and_withheld_not_cancelled(rx, doctor_user, nurse_user):
    # rx: a dose given yesterday. Today a withheld dose, and a cancelled one the day before.
    withheld = services.dispensation_record(
        prescription=rx, part="day", intoxication_signs=True, observations="drowsy",
        withhold=True, withheld_reason="intoxication", actor=nurse_user)[0]
    cancelled = DispensationFactory(prescription=rx, date=day(-2))
    services.dispensation_cancel(dispensation=cancelled, reason="Wrong patient.",
                                 actor=doctor_user)
    pairs = set()
    for queryset in selectors.contact_day_querysets():
        pairs |= {(row["patient_id"], row["date"]) for row in queryset}
    assert pairs == {(rx.patient_id, day(-1)), (withheld.patient_id, day())}


def test_take_home_counts_as_contact_on_the_day_it_was_handed(patient):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5))
    DispensationFactory(prescription=rx, date=day(-2))
    DispensationFactory(prescription=rx, date=day(-2), dose_date=day(-1))
    rows = list(selectors.contact_day_querysets()[0])
    assert {(r["patient_id"], r["date"]) for r in rows} == {(patient.pk, day(-2))}


def test_contact_querysets_reach_the_yearly_contacts(rx):
    from reporting import sql
    sources = sql.contact_sources()
    assert "dispensary.dispensation" in {source.key for source in sources}


def test_yearly_dispensations_and_patients_on_substitution(nurse_user, doctor_user):
    year = day().year - 1
    jan = datetime.date(year, 1, 10)
    rx = PrescriptionFactory(start_date=jan, course_started_on=jan)
    for offset in range(3):
        DispensationFactory(prescription=rx, date=jan + datetime.timedelta(days=offset))
    cancelled = DispensationFactory(prescription=rx, date=jan + datetime.timedelta(days=3))
    services.dispensation_cancel(dispensation=cancelled, reason="Mistake.", actor=doctor_user)
    from dispensary.models import Product
    diazepam = Product.objects.get(substance="diazepam")
    other = PrescriptionFactory(patient=PatientFactory(), product=diazepam, daily_dose=10,
                                start_date=jan, course_started_on=jan)
    DispensationFactory(prescription=other, date=jan)
    assert selectors.dispensations_in_year(year).count() == 4
    assert selectors.patients_on_substitution(year).count() == 1
    assert selectors.dispensations_in_year(year - 1).count() == 0
