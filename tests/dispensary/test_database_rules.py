"""The database itself refuses what the services refuse: any code path (a script, a bulk
import, a future bug) meets the same rules."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from dispensary import services
from dispensary.models import (Dispensation, DispensationCancellation, HoldReview,
                               RegisterEntry)
from tests.dispensary.conftest import day
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def entry(rx, **fields):
    values = {"patient": rx.patient, "prescription": rx, "product": rx.product, "date": day(),
              "dose_date": day(), "part": "day", "status": "given", "quantity": Decimal(60),
              "intoxication_signs": False, "dispensed_at": timezone.now(), **fields}
    with transaction.atomic():
        return Dispensation.objects.create(**values)


@pytest.fixture
def given(rx):
    return DispensationFactory(prescription=rx, date=day())


# --- append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "UPDATE dispensary_dispensation SET quantity = 30 WHERE id = %s",
    "UPDATE dispensary_dispensation SET status = 'withheld', quantity = 0, "
    "withheld_reason = 'other' WHERE id = %s",
    "DELETE FROM dispensary_dispensation WHERE id = %s",
])
def test_database_refuses_changing_the_ledger(given, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql, [given.pk])
    given.refresh_from_db()
    assert given.quantity == 60 and given.status == "given"


def test_orm_save_and_delete_refused_too(given):
    given.quantity = Decimal(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        given.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Dispensation.objects.filter(pk=given.pk).delete()
    assert Dispensation.objects.get(pk=given.pk).quantity == 60


def test_merge_may_move_ledger_rows_to_the_kept_file(given):
    kept = PatientFactory(alias="Kept")
    raw("UPDATE dispensary_dispensation SET patient_id = %s WHERE id = %s", [kept.pk, given.pk])
    assert Dispensation.objects.get(pk=given.pk).patient == kept


def test_cancellations_register_and_reviews_are_append_only(given, doctor_user, stock):
    cancellation = services.dispensation_cancel(dispensation=given, reason="Wrong patient.",
                                                actor=doctor_user)
    for sql, pk in [
        ("UPDATE dispensary_dispensationcancellation SET reason = 'x' WHERE id = %s",
         cancellation.pk),
        ("DELETE FROM dispensary_dispensationcancellation WHERE id = %s", cancellation.pk),
        ("UPDATE dispensary_registerentry SET quantity = 99999, balance_after = 99999 "
         "WHERE id = %s", stock.pk),
        ("DELETE FROM dispensary_registerentry WHERE id = %s", stock.pk),
    ]:
        with pytest.raises(DatabaseError, match="append-only"):
            raw(sql, [pk])
    assert DispensationCancellation.objects.filter(pk=cancellation.pk).exists()
    assert RegisterEntry.objects.get(pk=stock.pk).quantity == 10000


def test_hold_reviews_are_append_only(rx, doctor_user):
    review = HoldReview.objects.create(patient=rx.patient, prescription=rx,
                                       substance="methadone", reviewed_on=day(), missed_days=4,
                                       decision="resume", note="ok", reviewed_by=doctor_user)
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE dispensary_holdreview SET decision = 'lower' WHERE id = %s", [review.pk])


# --- a dose must fit an active prescription -------------------------------------------------


def test_database_refuses_a_second_dose_same_prescription_day_part(given, rx):
    with pytest.raises(IntegrityError, match="already given"):
        entry(rx)
    # Even when the daily total would allow it (half a dose given), the slot is taken.
    half = DispensationFactory(prescription=rx, date=day(1), quantity=30)
    with pytest.raises(IntegrityError, match="once_per_day_part"):
        entry(rx, date=day(1), dose_date=day(1), quantity=Decimal(30))
    assert Dispensation.objects.filter(dose_date=day(1)).get() == half


def test_database_refuses_more_than_the_part_dose(rx):
    with pytest.raises(IntegrityError, match="more than the prescribed"):
        entry(rx, quantity=Decimal("60.01"))


def test_database_refuses_more_than_the_daily_dose_across_prescriptions(rx, given):
    # Another prescription of the same substance (capsules) the same day.
    from dispensary.models import Product
    capsules = Product.objects.get(name="Methadone capsules")
    other = PrescriptionFactory(patient=rx.patient, product=capsules, start_date=day(),
                                daily_dose=80)
    with pytest.raises(IntegrityError, match="already given"):
        entry(other, product=capsules, quantity=Decimal(30))
    entry(other, product=capsules, quantity=Decimal(20))  # 60 + 20 = 80 is the daily dose


def test_database_refuses_a_dose_outside_the_prescription(patient):
    ended = PrescriptionFactory(patient=patient, start_date=day(-10), end_date=day(-1))
    with pytest.raises(IntegrityError, match="not active"):
        entry(ended)


def test_database_refuses_a_dose_for_another_patient(rx):
    with pytest.raises(IntegrityError, match="differs from the prescription"):
        entry(rx, patient=PatientFactory())


def test_database_refuses_the_wrong_part(rx):
    with pytest.raises(IntegrityError, match="not split"):
        entry(rx, part="morning")


def test_database_refuses_a_dose_given_with_signs_of_intoxication(rx):
    with pytest.raises(IntegrityError, match="no_dose_when_intoxicated"):
        entry(rx, intoxication_signs=True)


def test_database_refuses_replacing_a_dose_that_was_given(rx):
    half = DispensationFactory(prescription=rx, date=day(), quantity=30)
    with pytest.raises(IntegrityError, match="was given and is not cancelled"):
        entry(rx, replaces=half, quantity=Decimal(30))


def test_database_refuses_a_take_home_more_than_a_week_ahead(rx):
    with pytest.raises(IntegrityError, match="take_home_within_week"):
        entry(rx, dose_date=day(8))


# --- register -------------------------------------------------------------------------------


def test_database_refuses_a_negative_balance(rx):
    from dispensary.models import Product
    capsules = Product.objects.get(name="Methadone capsules")  # nothing in stock
    with pytest.raises(IntegrityError, match="balance_not_negative"), transaction.atomic():
        RegisterEntry.objects.create(product=capsules, sequence=1, kind="dispensed",
                                     date=day(), quantity=-10, balance_after=-10,
                                     dispensation=DispensationFactory(prescription=rx),
                                     recorded_at=timezone.now())


def test_database_refuses_a_balance_that_does_not_follow(stock):
    with pytest.raises(IntegrityError, match="is not the previous balance"), \
            transaction.atomic():
        RegisterEntry.objects.create(product=stock.product, sequence=2, kind="receipt",
                                     date=day(), quantity=100, balance_after=99999,
                                     supplier="x", batch="y", recorded_at=timezone.now())
    with pytest.raises(IntegrityError, match="does not follow"), transaction.atomic():
        RegisterEntry.objects.create(product=stock.product, sequence=5, kind="receipt",
                                     date=day(), quantity=100, balance_after=10100,
                                     supplier="x", batch="y", recorded_at=timezone.now())
