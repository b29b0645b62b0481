"""Two nurses give the same dose at the same moment: real threads, each with its own
database connection, on PostgreSQL (no mock). Exactly one dose is recorded."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from dispensary.models import Dispensation, RegisterEntry
from mass.roles import Role
from tests.conftest import make_staff
from tests.dispensary.conftest import add_stock, day, give, given_rows
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory


def run_together(*functions, timeout=30):
    """Run the functions in threads released at the same instant; return their results."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a request did not finish"
    return results


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
    assert ("Already dispensed today at" in refused
            or "This dose has just been recorded by someone else" in refused)
    assert given_rows(rx, dose_date=day()).count() == 1
    assert RegisterEntry.objects.filter(kind="dispensed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_alone_refuses_a_concurrent_second_dose():
    """Without the service's lock (a script, a future bug), the unique constraint still
    stops the second insert of the same prescription, day and part."""
    rx = PrescriptionFactory(patient=PatientFactory(alias="Mimi"), start_date=day(-10))

    def insert(hold_seconds):
        def work():
            with transaction.atomic():
                entry = Dispensation.objects.create(
                    patient=rx.patient, prescription=rx, product=rx.product, date=day(),
                    dose_date=day(), part="day", status="given", quantity=60,
                    intoxication_signs=False, dispensed_at=timezone.now())
                time.sleep(hold_seconds)  # the other insert waits on the index meanwhile
            return entry
        return work

    results = run_together(insert(1.5), insert(0.0))

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    # Usually the unique index (the second insert waited for the first to commit); on a
    # slow machine the second may start after that commit, and the trigger refuses it.
    assert ("dispensary_dispensation_once_per_day_part" in str(errors[0])
            or "already given" in str(errors[0]))
    assert Dispensation.objects.filter(dose_date=day()).count() == 1
