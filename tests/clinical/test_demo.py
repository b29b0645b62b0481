import io

from django.urls import reverse

from clinical import demo, selectors
from clinical.models import Measurement, Problem
from dispensary import demo as dispensary_demo
from tests.dispensary.test_demo import walk_ins


def test_seed_gives_the_patients_on_methadone_problems_and_measures_once(doctor_client):
    walk_ins(patients=10)
    dispensary_demo.seed(years=1, scale=1, stdout=io.StringIO())
    out = io.StringIO()
    demo.seed(years=1, scale=1, stdout=out)
    assert "patients on methadone" in out.getvalue()
    on_methadone = set(Problem.objects.values_list("patient_id", flat=True))
    assert on_methadone and Measurement.objects.filter(patient_id__in=on_methadone).exists()
    # Every one of them has the opioid dependence, the current version of their problem.
    patient_id = min(on_methadone)
    html = doctor_client.get(reverse("clinical:summary", args=[patient_id])).content.decode()
    assert "F11.2" in html
    assert selectors.last_measures(list(Measurement.objects.filter(patient_id=patient_id)
                                        .order_by("-taken_at")))

    again = io.StringIO()
    demo.seed(years=1, scale=1, stdout=again)
    assert "nothing added" in again.getvalue()
