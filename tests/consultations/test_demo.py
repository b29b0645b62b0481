import datetime
import io

from django.utils import timezone

from consultations import demo
from consultations.models import Consultation, GroupAttendance, Partner, Referral, ScreeningTest
from consultations.selectors import contact_day_querysets
from mass.accounts.demo import seed_staff
from patients.models import Visit
from tests.factories import PatientFactory, VisitFactory


def make_walk_ins(days=12, patients=8):
    people = PatientFactory.create_batch(patients)
    today = timezone.localdate()
    for offset in range(days):
        day = today - datetime.timedelta(days=offset * 2)
        for person in people[: 3 + offset % 5]:
            VisitFactory(patient=person, date=day, purpose="consultation")


def test_demo_consultations_follow_the_2016_rate_on_walk_in_days(db):
    seed_staff()
    make_walk_ins()
    out = io.StringIO()

    demo.seed(years=1, scale=1, stdout=out)

    walk_ins = set(Visit.objects.values_list("patient_id", "date"))
    days = {day for _, day in walk_ins}
    consultations = Consultation.objects.count()
    assert consultations == round(20373 * len(days) / 278)
    # No contact of their own: every consultation and attendance is on a walk-in day.
    contact_pairs = {(row["patient_id"], row["date"]) for qs in contact_day_querysets()
                     for row in qs}
    assert contact_pairs <= walk_ins
    assert GroupAttendance.objects.exists() and Referral.objects.exists()
    assert ScreeningTest.objects.exists()
    assert Partner.objects.filter(kind="cpas").count() == 19
    assert {"CHU Brugmann", "CHU Saint-Pierre", "Projet Lama", "Transit", "New Samusocial",
            "Bruss'Help"} <= set(Partner.objects.values_list("name", flat=True))
    assert set(Consultation.objects.values_list("discipline", flat=True)) == {
        "medical", "nursing", "psychiatric", "psychological", "social", "other"}
    # Old notes are signed, the last two days' are waiting for their author.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert not Consultation.objects.filter(date__lt=yesterday, signed_at__isnull=True).exists()
    assert "consultations:" in out.getvalue()


def test_demo_is_idempotent(db):
    seed_staff()
    make_walk_ins(days=4)
    demo.seed(years=1, scale=1, stdout=io.StringIO())
    counts = [model.objects.count() for model in (Consultation, GroupAttendance, Partner,
                                                   Referral, ScreeningTest)]
    demo.seed(years=1, scale=1, stdout=io.StringIO())
    assert counts == [model.objects.count() for model in (Consultation, GroupAttendance,
                                                           Partner, Referral, ScreeningTest)]


def test_demo_without_walk_ins_adds_only_partners(db):
    out = io.StringIO()
    demo.seed(years=1, scale=1, stdout=out)
    assert not Consultation.objects.exists()
    assert Partner.objects.count() == len(demo.PARTNERS)
