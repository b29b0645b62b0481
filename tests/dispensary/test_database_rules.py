"""The database itself refuses what the services refuse: any code path (a script, a bulk
import, a future bug) meets the same rules."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from dispensary import services
from dispensary.models import (
    Dispensation,
    DispensationCancellation,
    HoldReview,
    Prescription,
    Product,
    RegisterEntry,
)
from tests.dispensary.conftest import OVERRIDE, day, history, reviewed
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory

# The triggers are proven on their own, for a role that has every right on the rows (a script
# run as the owner); the application's role is refused earlier (test_database_roles.py).
pytestmark = pytest.mark.database_owner


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


# --- append-only ---------------------------------------------------------------------------------


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
    from patients.models import Patient
    kept = PatientFactory(alias="Kept")
    # Not to any file: only to the one the row's file was merged into.
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE dispensary_dispensation SET patient_id = %s WHERE id = %s",
            [kept.pk, given.pk])
    Patient.objects.filter(pk=given.patient_id).update(status=Patient.Status.MERGED,
                                                       merged_into=kept)
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


# --- a dose must fit an active prescription ------------------------------------------------------


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


# --- register ------------------------------------------------------------------------------------


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


# --- the hold after days without a dose (dispensary/triggers.py) ---------------------------------


def raw_dose(rx, *, date=None, dose_date=None, review=None, status="given"):
    """A dose written by a raw INSERT, as a script bypassing dispensary.services would."""
    date = date or day()
    quantity, reason = (rx.daily_dose, "") if status == "given" else (0, "refused")
    raw("INSERT INTO dispensary_dispensation (patient_id, prescription_id, product_id, date, "
        "dose_date, part, status, quantity, intoxication_signs, observations, "
        "withheld_reason, review_id, dispensed_at) "
        "VALUES (%s, %s, %s, %s, %s, 'day', %s, %s, false, '', %s, %s, now())",
        [rx.patient_id, rx.pk, rx.product_id, date, dose_date or date, status, quantity,
         reason, review.pk if review else None])


def doses_for(rx, dose_date):
    return Dispensation.objects.filter(patient=rx.patient, dose_date=dose_date).count()


@pytest.fixture
def course(patient):
    """Methadone 60 mg a day for 30 days; each test gives its history."""
    return PrescriptionFactory(patient=patient, start_date=day(-30))


def test_database_holds_a_dose_after_three_days_without_one(course):
    history(course, days_ago=[4])
    with pytest.raises(IntegrityError, match="held after 3 days without a dose of methadone"):
        raw_dose(course)
    assert doses_for(course, day()) == 0


def test_database_gives_after_two_days_without_a_dose(course):
    history(course, days_ago=[3])
    raw_dose(course)
    assert doses_for(course, day()) == 1


def test_database_gives_after_the_review_of_the_day_linked_to_the_dose(course):
    history(course, days_ago=[6])
    review = reviewed(course, missed=5)
    raw_dose(course, review=review)
    assert Dispensation.objects.get(dose_date=day()).review == review


@pytest.mark.parametrize("which", ["unlinked", "yesterday", "other patient", "other substance"])
def test_database_wants_the_review_of_that_patient_substance_and_day(course, which):
    history(course, days_ago=[6])
    if which == "unlinked":  # reviewed, but the dose does not say after which review
        reviewed(course)
        review, message = None, "held after 5 days"
    else:
        review = reviewed(course, -1 if which == "yesterday" else 0)
        if which == "other patient":
            other = PrescriptionFactory(patient=PatientFactory(), start_date=day(-3))
            review = reviewed(other)
        elif which == "other substance":
            review = HoldReview.objects.create(
                patient=course.patient, prescription=course, substance="buprenorphine",
                reviewed_on=day(), missed_days=5, decision="resume", note="x",
                reviewed_by=review.reviewed_by)
        message = "is not of this patient, substance and day"
    with pytest.raises(IntegrityError, match=message):
        raw_dose(course, review=review)
    assert doses_for(course, day()) == 0


def test_database_counts_the_days_since_the_last_dose_whatever_the_prescription(patient):
    """The review's reproduction without the services: the last dose 10 days ago under a
    prescription ended then, a new prescription (a new run) from today."""
    old = PrescriptionFactory(patient=patient, daily_dose=120, start_date=day(-60),
                              end_date=day(-10))
    history(old, days_ago=[10])
    new = PrescriptionFactory(patient=patient, daily_dose=120, start_date=day())
    with pytest.raises(IntegrityError, match="held after 9 days without a dose"):
        raw_dose(new)
    assert doses_for(new, day()) == 0


def test_database_counts_take_home_days_as_covered(course):
    DispensationFactory(prescription=course, date=day(-5))
    DispensationFactory(prescription=course, date=day(-5), dose_date=day(-4))
    DispensationFactory(prescription=course, date=day(-5), dose_date=day(-3))
    raw_dose(course)  # two days without a dose
    assert doses_for(course, day()) == 1


def test_database_skips_a_cancelled_last_dose(course, doctor_user):
    history(course, days_ago=[4])
    mistake = DispensationFactory(prescription=course, date=day(-1))
    services.dispensation_cancel(dispensation=mistake, reason="Wrong patient.",
                                 actor=doctor_user)
    with pytest.raises(IntegrityError, match="held after 3 days"):
        raw_dose(course)
    assert doses_for(course, day()) == 0


def test_database_hands_no_take_home_dose_after_a_gap_even_reviewed(course):
    history(course, days_ago=[4])
    review = reviewed(course)
    raw_dose(course, review=review)
    with pytest.raises(IntegrityError, match="3 days without a dose of methadone: no "
                                             "take-home dose"):
        raw_dose(course, dose_date=day(1), review=review)
    assert doses_for(course, day(1)) == 0


def test_database_lets_a_dose_be_withheld_whatever_the_gap(course):
    history(course, days_ago=[10])
    raw_dose(course, status="withheld")
    assert Dispensation.objects.get(dose_date=day()).status == "withheld"


def test_database_leaves_a_first_dose_ever_to_the_services(course):
    """What the database's rule does not cover: a patient who never had a dose of the substance
    is held from the first day of the run of prescriptions by dispensary.services alone
    (test_new_prescription_never_collected_holds_after_three_days)."""
    raw_dose(course)  # 30 days after the prescription began, the first dose ever
    assert doses_for(course, day()) == 1


# --- prescriptions are history -------------------------------------------------------------------


def prescription_row(rx):
    return Prescription.objects.filter(pk=rx.pk).values().get()


@pytest.mark.parametrize("sql", [
    "UPDATE dispensary_prescription SET daily_dose = 120 WHERE id = %s",
    "UPDATE dispensary_prescription SET evening_dose = 20 WHERE id = %s",
    "UPDATE dispensary_prescription SET start_date = start_date - 5 WHERE id = %s",
    "UPDATE dispensary_prescription SET course_started_on = course_started_on - 5 "
    "WHERE id = %s",
    "UPDATE dispensary_prescription SET take_home_weekdays = '{0,1,2}' WHERE id = %s",
    "UPDATE dispensary_prescription SET product_id = (SELECT id FROM dispensary_product "
    "WHERE name = 'Methadone capsules') WHERE id = %s",
    "UPDATE dispensary_prescription SET instructions = 'x', end_date = current_date "
    "WHERE id = %s",
    "UPDATE dispensary_prescription SET prescribed_by_id = NULL WHERE id = %s",
    "DELETE FROM dispensary_prescription WHERE id = %s",
])
def test_database_refuses_rewriting_a_prescription(patient, doctor_user, sql):
    rx = PrescriptionFactory(patient=patient, start_date=day(1), course_started_on=day(1),
                             prescribed_by=doctor_user)  # not dispensed yet
    before = prescription_row(rx)
    with pytest.raises(DatabaseError, match="forbidden|only its end"):
        raw(sql, [rx.pk])
    assert prescription_row(rx) == before


def test_database_lets_a_prescription_end_earlier_never_later(patient, doctor_user):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5))
    raw("UPDATE dispensary_prescription SET end_date = %s, ended_by_id = %s, "
        "end_reason = 'Until the review.' WHERE id = %s", [day(10), doctor_user.pk, rx.pk])
    raw("UPDATE dispensary_prescription SET end_date = %s WHERE id = %s", [day(2), rx.pk])
    raw("UPDATE dispensary_prescription SET end_date = %s WHERE id = %s", [day(2), rx.pk])
    for value in (day(3), None):
        with pytest.raises(IntegrityError, match="never removed or put later"):
            raw("UPDATE dispensary_prescription SET end_date = %s WHERE id = %s",
                [value, rx.pk])
    rx.refresh_from_db()
    assert (rx.end_date, rx.ended_by, rx.end_reason) == (day(2), doctor_user,
                                                         "Until the review.")


def test_database_lets_a_merge_move_a_prescription(rx):
    from patients.models import Patient
    kept = PatientFactory(alias="Kept")
    with pytest.raises(DatabaseError, match="changes file only by a merge"):
        raw("UPDATE dispensary_prescription SET patient_id = %s WHERE id = %s",
            [kept.pk, rx.pk])
    Patient.objects.filter(pk=rx.patient_id).update(status=Patient.Status.MERGED,
                                                    merged_into=kept)
    raw("UPDATE dispensary_prescription SET patient_id = %s WHERE id = %s", [kept.pk, rx.pk])
    assert Prescription.objects.get(pk=rx.pk).patient == kept


def test_services_still_end_and_replace_prescriptions(rx, doctor_user):
    new = services.prescription_create(patient=rx.patient, product=rx.product,
                                       daily_dose=Decimal(80), start_date=day(1),
                                       actor=doctor_user, **OVERRIDE)
    rx.refresh_from_db()
    assert rx.end_date == day() and new.replaces == rx
    services.prescription_end(prescription=new, end_date=day(5), reason="Detox.",
                              actor=doctor_user)
    new.refresh_from_db()
    assert new.end_date == day(5) and new.ended_by == doctor_user


# --- a product in use keeps its unit and flags ---------------------------------------------------


@pytest.mark.parametrize("change", ["unit = 'ml'", "is_controlled = false",
                                    "is_substitution = false", "substance = 'morphine'"])
@pytest.mark.parametrize("used_by", ["prescription", "register"])
def test_database_keeps_the_unit_and_flags_of_a_product_in_use(change, used_by, nurse_user):
    product = Product.objects.get(name="Methadone capsules")
    if used_by == "prescription":
        PrescriptionFactory(product=product)
    else:
        services.register_receipt(product=product, quantity=Decimal(10), supplier="x",
                                  batch="y", received_on=day(), actor=nurse_user)
    before = Product.objects.filter(pk=product.pk).values().get()
    with pytest.raises(IntegrityError, match="cannot change once it is prescribed"):
        raw(f"UPDATE dispensary_product SET {change} WHERE id = %s", [product.pk])
    assert Product.objects.filter(pk=product.pk).values().get() == before
    raw("UPDATE dispensary_product SET max_daily_dose = 250, name = 'Methadone caps' "
        "WHERE id = %s", [product.pk])
    assert Product.objects.get(pk=product.pk).max_daily_dose == 250


def test_database_lets_an_unused_product_change(db):
    product = Product.objects.get(name="Diazepam tablets")
    raw("UPDATE dispensary_product SET unit = 'unit', is_controlled = false WHERE id = %s",
        [product.pk])
    product.refresh_from_db()
    assert product.unit == "unit" and not product.is_controlled
