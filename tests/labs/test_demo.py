import datetime
import io

from django.utils import timezone

from labs import demo
from labs.models import LabResult, Treatment
from labs.selectors import cascades
from mass.accounts.demo import seed_staff
from tests.factories import PatientFactory, ScreeningTestFactory
from vaccinations import demo as vaccination_demo
from vaccinations.models import VaccinationCourse
from vaccinations.selectors import course_state


def test_demo_follows_the_positive_screenings_along_the_cascade_once(db):
    seed_staff()
    today = timezone.localdate()
    for n in range(30):
        day = today - datetime.timedelta(days=200 + n)
        ScreeningTestFactory(patient=PatientFactory(), date=day, test="hcv",
                             result="positive" if n % 2 else "negative", result_date=day)
    out = io.StringIO()
    demo.seed(years=1, scale=1, stdout=out)
    assert "lab results" in out.getvalue()
    assert LabResult.objects.filter(test="hcv_rna").exists()
    assert Treatment.objects.exists()
    # Every demo record keeps to the rules: no result in the future, ends after starts.
    assert not LabResult.objects.filter(sample_date__gt=today).exists()
    treated = Treatment.objects.first()
    assert cascades(patient=treated.patient)["hcv"].where
    again = io.StringIO()
    demo.seed(years=1, scale=1, stdout=again)
    assert "nothing added" in again.getvalue()

    vaccination_demo.seed(years=1, scale=1, stdout=io.StringIO())
    courses = list(VaccinationCourse.objects.prefetch_related("doses"))
    assert courses
    for course in courses:
        doses = sorted(course.doses.all(), key=lambda dose: dose.number)
        assert [dose.number for dose in doses] == list(range(1, len(doses) + 1))
        assert all(a.date < b.date for a, b in zip(doses, doses[1:], strict=False))
        assert course_state(course, doses).given == len(doses)
