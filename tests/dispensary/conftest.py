import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dispensary import services
from dispensary.models import Dispensation, RegisterEntry
from mass.accounts.roles import Role
from tests.conftest import EN, make_staff
from tests.factories import (
    DispensationFactory,
    PatientFactory,
    PrescriptionFactory,
    methadone_syrup,
)


def day(delta=0) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=delta)


def give(client, rx, part="day", htmx=False, **fields):
    """The one-action "give" of the dispensing list (without htmx: redirect on success)."""
    headers = {name: fields.pop(name) for name in list(fields) if name.startswith("HTTP_")}
    data = {"part": part, "intoxication": "none", "action": "give", "hand_take_home": "on",
            "next": reverse("dispensary:today"), **fields}
    if htmx:
        headers["HTTP_HX_REQUEST"] = "true"
    return client.post(reverse("dispensary:dispense", args=[rx.pk]), data, **EN, **headers)


def prescribing(patient, **fields):
    """The prescription form's data: ``fields`` and the version of the patient's
    prescriptions the form was built on (its hidden ``based_on``), as a GET would give."""
    from dispensary.selectors import prescribing_version
    return {"based_on": prescribing_version(patient=patient), **fields}


#: The prescriber's confirmation, with a reason, of a prescription above its product's
#: induction rules (a restart after the hold at the former dose, a fixture's patient whose
#: only recorded dose was yesterday): for tests about something else than the rules.
CONFIRMED = {"induction_confirmed": "on",
             "induction_override_reason": "Tolerance confirmed: doses taken daily elsewhere."}
#: The same for a call of services.prescription_create.
OVERRIDE = {"induction_confirmed": True,
            "induction_override_reason": "Tolerance confirmed: doses taken daily elsewhere."}


def given_rows(rx=None, **filters):
    rows = Dispensation.objects.filter(status="given", cancellation__isnull=True, **filters)
    if rx is not None:
        rows = rows.filter(prescription=rx)
    return rows


def history(rx, *, days_ago: list[int]):
    """Doses given on past days (relative to today) under ``rx``, which must be active then."""
    part = rx.parts()[0]
    for delta in days_ago:
        DispensationFactory(prescription=rx, date=day(-delta), part=part,
                            quantity=rx.part_dose(part))


def reviewed(rx, delta=0, *, missed=3):
    """A doctor's review of ``rx``'s patient on day ``delta`` (relative to today): what a dose
    given after 3 or more days without one needs (the database checks it)."""
    from dispensary.models import HoldReview
    doctor = make_staff(Role.DOCTOR, username="t_review_doctor")
    return HoldReview.objects.create(patient=rx.patient, prescription=rx,
                                     substance=rx.product.substance, reviewed_on=day(delta),
                                     missed_days=missed, decision="resume",
                                     note="Seen: no sign of lost tolerance.",
                                     reviewed_by=doctor)


@pytest.fixture(autouse=True)
def centre_open_every_day(request):
    """The dispensary's tests were written for a centre open every day: the doses of a
    closed day go home with the day before's (tests/dispensary/test_closed_days.py), which
    would change, on a Saturday or the eve of a public holiday, what they expect. Those of
    closed days set the centre's calendar themselves (``centre_calendar``)."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        # The reference data (the centre) first: the previous such test emptied the tables.
        request.getfixturevalue("_reference_data_for_transactional_test")
    else:
        request.getfixturevalue("db")
    return centre_calendar(open_weekdays=range(7), public_holidays=False)


def centre_calendar(*, open_weekdays, public_holidays=True):
    """The centre (MASS Woeringen) open 10:00-19:00 on ``open_weekdays`` (0 = Monday)."""
    from mass.models import OpeningHours, Site
    centre = Site.objects.get(kind=Site.Kind.CENTRE, name="MASS Woeringen")
    centre.opening_hours.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(site=centre, weekday=weekday, opens=datetime.time(10),
                     closes=datetime.time(19)) for weekday in open_weekdays)
    centre.closed_on_public_holidays = public_holidays
    centre.save(update_fields=["closed_on_public_holidays"])
    return centre


@pytest.fixture
def stock(db):
    """10 g of methadone syrup in the register."""
    return add_stock()


def add_stock(quantity=10000):
    officer = make_staff(Role.NURSE, username="t_stock_nurse")
    return services.register_receipt(product=methadone_syrup(), quantity=Decimal(quantity),
                                     supplier="Pharmacie centrale", batch="B-1",
                                     received_on=day(), actor=officer)


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Mimi")


@pytest.fixture
def rx(db, patient, stock):
    """Methadone 60 mg a day for Mimi, running for 30 days, last dose yesterday."""
    prescription = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(prescription, days_ago=[1])
    return prescription


def balance(product=None) -> Decimal:
    product = product or methadone_syrup()
    entry = RegisterEntry.objects.filter(product=product).order_by("-sequence").first()
    return entry.balance_after if entry else Decimal(0)


# Dispensing involves several people at once (a nurse gives, a doctor reviews or cancels):
# each gets a client of their own, unlike the shared ``client`` of tests/conftest.py.


def own_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nurse_client(nurse_user):
    return own_client(nurse_user)


@pytest.fixture
def doctor_client(doctor_user):
    return own_client(doctor_user)


@pytest.fixture
def psychiatrist_client(psychiatrist_user):
    return own_client(psychiatrist_user)
