"""Two nurses give the same dose at the same moment: real threads, each with its own
database connection, on PostgreSQL (no mock). Exactly one dose is recorded."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from dispensary.models import Dispensation, RegisterEntry
from mass.accounts.roles import Role
from tests.concurrency import run_together, while_held
from tests.conftest import make_staff
from tests.dispensary.conftest import CONFIRMED, OVERRIDE, add_stock, day, give, given_rows
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory


@pytest.mark.django_db(transaction=True)
def test_two_nurses_clicking_at_once_give_exactly_one_dose():
    add_stock()
    rx = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10))
    DispensationFactory(prescription=rx, date=day(-1))
    clients = []
    for name in ("t_nurse_a", "t_nurse_b"):
        client = Client()
        client.force_login(make_staff(Role.NURSE, username=name))
        clients.append(client)

    responses = run_together(*[lambda c=c: give(c, rx) for c in clients])

    assert not any(isinstance(r, Exception) for r in responses), responses
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 302]
    refused = next(r for r in responses if r.status_code == 200).content.decode()
    # The service locks the prescription before its checks: the second request waits for the
    # first to commit, then its check sees the dose (the database's unique index stays the
    # last line, for a writer without the lock: the test below).
    assert "Already dispensed today at" in refused
    assert given_rows(rx, dose_date=day()).count() == 1
    assert RegisterEntry.objects.filter(kind="dispensed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_alone_refuses_a_concurrent_second_dose():
    """Without the service's lock (a script, a future bug), the database still stops the
    second insert of the same prescription, day and part. Its rule locks the patient: the
    second waits for the first to commit. Half a dose each, so that the daily dose allows
    both and the unique index is what refuses (a whole dose each: the rule, "already given",
    as one after the other in tests/dispensary/test_database_rules.py)."""
    rx = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10))

    def insert():
        return Dispensation.objects.create(
            patient=rx.patient, prescription=rx, product=rx.product, date=day(),
            dose_date=day(), part="day", status="given", quantity=30,
            intoxication_signs=False, dispensed_at=timezone.now())

    def second():
        with transaction.atomic():
            return insert()

    error = while_held(insert, second)

    assert isinstance(error, IntegrityError), error
    assert "dispensary_dispensation_once_per_day_part" in str(error)
    assert Dispensation.objects.filter(dose_date=day()).count() == 1


# --- a same-day change of dose (issue 12) ---------------------------------------------------


def _nurse_clients(*names):
    clients = []
    for name in names:
        client = Client()
        client.force_login(make_staff(Role.NURSE, username=name))
        clients.append(client)
    return clients


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stale_page", [False, True])
def test_two_nurses_giving_at_once_after_a_same_day_re_prescription(stale_page):
    """30 mg given this morning, then 90 mg prescribed from today. Two nurses click at once:
    on the new row both, or (a page loaded before the change) one on the replaced row.
    Exactly one top-up of 60 mg is given and the register follows."""
    from dispensary import services
    from dispensary.models import Prescription
    add_stock()
    doctor = make_staff(Role.DOCTOR, username="t_doctor")
    old = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10),
                              daily_dose=30)
    DispensationFactory(prescription=old, date=day(-1))
    first, second = _nurse_clients("t_nurse_a", "t_nurse_b")
    assert give(first, old).status_code == 302
    new = services.prescription_create(patient=old.patient, product=old.product,
                                       daily_dose=Decimal(90), start_date=day(), actor=doctor,
                                       **OVERRIDE)
    start_balance = RegisterEntry.objects.order_by("-sequence").first().balance_after

    targets = [new, old if stale_page else new]
    responses = run_together(*[lambda c=c, rx=rx: give(c, rx)
                               for c, rx in zip((first, second), targets, strict=True)])

    assert not any(isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200).content.decode()
    # Who is refused does not depend on the race: the replaced row refuses whatever the
    # order; on the new row the second waits for the first (the test above).
    assert ("was replaced today" if stale_page else "Already dispensed today at") in refused
    today_given = given_rows(dose_date=day())
    assert sorted(e.quantity for e in today_given) == [30, 60]
    assert given_rows(new).get().quantity == 60
    end_balance = RegisterEntry.objects.order_by("-sequence").first().balance_after
    assert end_balance == start_balance - 60
    assert RegisterEntry.objects.filter(kind="dispensed").count() == 2
    assert Prescription.objects.get(pk=old.pk).end_date == day()


@pytest.mark.django_db(transaction=True)
def test_the_database_alone_refuses_two_top_ups_above_the_daily_dose():
    """Without the services (a script): 30 mg given under the replaced prescription, the
    new one split 60 + 30. Its morning and evening parts are two rows the unique index does
    not tie together; each alone fits the 60 mg left, both do not. The trigger locks the
    patient, so the second sees the first and is refused."""
    old = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10),
                              daily_dose=30, end_date=day())
    DispensationFactory(prescription=old, date=day(-1))
    DispensationFactory(prescription=old)
    new = PrescriptionFactory(patient=old.patient, start_date=day(), daily_dose=90,
                              evening_dose=30, replaces=old,
                              course_started_on=old.course_started_on)

    def insert(part, quantity):
        def work():
            with transaction.atomic():
                return Dispensation.objects.create(
                    patient=new.patient, prescription=new, product=new.product, date=day(),
                    dose_date=day(), part=part, status="given", quantity=quantity,
                    intoxication_signs=False, dispensed_at=timezone.now())
        return work

    # The evening's insert waits on the patient the morning's rule locked, until it commits.
    error = while_held(insert("morning", 60), insert("evening", 30))

    assert isinstance(error, IntegrityError), error
    assert "already given" in str(error)
    assert sum(e.quantity for e in given_rows(dose_date=day())) <= 90
    assert given_rows(new).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_doctors_prescribing_at_once_one_is_told_changed_meanwhile():
    """Two doctors open the prescription form of one patient and save at the same moment:
    exactly one prescription is written, the other doctor is told, nothing else written."""
    from django.urls import reverse

    from dispensary.models import Prescription
    add_stock()
    rx = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10))
    url = reverse("dispensary:prescription_create", args=[rx.patient.pk])
    doctors = []
    for name in ("t_doctor_a", "t_doctor_b"):
        client = Client()
        client.force_login(make_staff(Role.DOCTOR, username=name))
        doctors.append(client)
    forms = [c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode() for c in doctors]
    based_on = [f.split('name="based_on" value="')[1].split('"')[0] for f in forms]
    assert based_on[0] == based_on[1]

    def save(client, dose):
        return lambda: client.post(url, {"product": rx.product.pk, "daily_dose": dose,
                                         "start_date": day().isoformat(),
                                         "based_on": based_on[0], **CONFIRMED},
                                   HTTP_ACCEPT_LANGUAGE="en")

    responses = run_together(save(doctors[0], "70"), save(doctors[1], "90"))

    assert not any(isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200).content.decode()
    assert "changed meanwhile" in refused and "Nothing was recorded" in refused
    new = Prescription.objects.exclude(pk=rx.pk)
    assert new.count() == 1 and new.get().replaces_id == rx.pk
    saved_dose = new.get().daily_dose
    winner = next(i for i, r in enumerate(responses) if r.status_code == 302)
    assert saved_dose == (70 if winner == 0 else 90)
