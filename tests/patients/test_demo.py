import datetime
import io
import statistics

import pytest
from django.db.models import Count
from django.utils import timezone

from patients import demo
from patients.models import Episode, HarmReductionContact, Patient, PatientPhoto, Visit
from patients.photos import photo_path
from patients.validators import niss_is_valid

pytestmark = pytest.mark.django_db


# Complexity 21, kept: each volume of seed 000 checked in turn (each `and` counts).
def test_seed_makes_a_year_like_seed_000_and_is_idempotent():
    out = io.StringIO()
    demo.seed(years=2, scale=1, stdout=out)
    assert "walk-ins" in out.getvalue()
    counts = (Patient.objects.count(), Episode.objects.count(), Visit.objects.count(),
              HarmReductionContact.objects.count())
    demo.seed(years=2, scale=1, stdout=out)
    assert (Patient.objects.count(), Episode.objects.count(), Visit.objects.count(),
            HarmReductionContact.objects.count()) == counts
    assert "nothing added" in out.getvalue()

    # the last complete calendar year looks like 2016 at the MASS
    year = timezone.localdate().year - 1
    visits = Visit.objects.filter(date__year=year)
    contacts = visits.values("patient_id", "date").distinct().count()
    days = visits.values("date").distinct().count()
    people = visits.values("patient_id").distinct().count()
    assert 560 <= people <= 690, people
    assert 250 <= days <= 300, days
    assert 40 <= contacts / days <= 58, contacts / days
    assert 130 <= Episode.objects.filter(opened_on__year=year, kind="new").count() <= 200
    assert Episode.objects.filter(opened_on__year=year, kind="resumption").count() >= 60
    # walk-ins happen at the centre when it is open, some at outreach sites
    woeringen = visits.filter(site__name="MASS Woeringen")
    assert not woeringen.filter(date__week_day=1).exists()  # never on Sunday
    assert visits.exclude(site__name="MASS Woeringen").exists()
    assert 0.9 < woeringen.count() / visits.count() < 1
    # one open episode per person at most, closed ones with a reason
    assert not Episode.objects.values("patient").filter(closed_on__isnull=True).annotate(
        n=Count("id")).filter(n__gt=1).exists()
    assert not Episode.objects.filter(closed_on__isnull=False, closure_reason="").exists()
    # pseudonymous identities: aliases always, names and NISS sometimes (valid ones)
    niss = list(Patient.objects.exclude(niss="").values_list("niss", flat=True))
    assert niss and all(niss_is_valid(n) for n in niss)
    assert Patient.objects.filter(last_name="").exists()
    # same-alias files told apart: a distinguishing feature for some, placeholder photos
    # (no face) with consent for a few who came lately
    noted = Patient.objects.exclude(distinguishing_note="").count()
    assert 0.25 < noted / Patient.objects.count() < 0.45
    photos = PatientPhoto.objects.select_related("patient")
    assert photos.count() == demo.DEMO_PHOTOS
    assert all(p.patient.photo_consents.get().decision == "given" for p in photos)
    assert all(photo_path(p.token).exists() for p in photos)
    # nothing in the future
    assert not Visit.objects.filter(date__gt=timezone.localdate()).exists()


def test_generator_is_scalable_and_repeatable():
    start, end = datetime.date(2015, 1, 1), datetime.date(2016, 12, 31)
    small = demo.generate(start=start, end=end, scale=0.5)
    large = demo.generate(start=start, end=end, scale=2)
    assert 3 < len(large.visits) / len(small.visits) < 5
    assert demo.generate(start=start, end=end, scale=0.5).visits == small.visits


def test_activity_days_skip_sundays_and_public_holidays():
    import random
    days = demo.activity_days(datetime.date(2016, 1, 1), datetime.date(2016, 12, 31),
                              demo.WOERINGEN_HOURS, random.Random(1))
    assert 270 <= len(days) <= 285
    assert datetime.date(2016, 3, 28) not in days  # Easter Monday 2016
    assert all(d.weekday() != 6 for d in days)
    assert statistics.mean(d.weekday() for d in days) < 3


@pytest.mark.django_db
def test_seed_demo_refuses_a_real_database(settings):
    """The demo accounts share a published password: outside the demo nothing is created."""
    from django.core.management import CommandError, call_command

    from mass.models import User
    settings.DEMO = settings.DEBUG = False
    with pytest.raises(CommandError, match="DEMO=1"):
        call_command("seed_demo")
    assert not User.objects.exists()
