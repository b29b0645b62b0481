import io

from django.urls import reverse

from alerts import demo
from alerts.models import Alert
from dispensary import demo as dispensary_demo
from tests.dispensary.test_demo import walk_ins


def test_seed_puts_alerts_on_todays_list_once(nurse_client):
    walk_ins(patients=10)
    dispensary_demo.seed(years=1, scale=1, stdout=io.StringIO())
    out = io.StringIO()
    demo.seed(years=1, scale=1, stdout=out)
    assert "alerts on patients of today's dispensing list" in out.getvalue()
    assert set(Alert.objects.values_list("kind", flat=True)) == set(Alert.Kind.values)
    assert Alert.objects.filter(ended_at__isnull=False).count() == 1
    html = nurse_client.get(reverse("dispensary:today")).content.decode()
    assert html.count("data-alert=") >= Alert.objects.filter(ended_at__isnull=True).count()

    again = io.StringIO()
    demo.seed(years=1, scale=1, stdout=again)
    assert "nothing added" in again.getvalue()
    assert Alert.objects.count() == len(demo.ALERTS) + 1


def test_seed_does_nothing_without_a_list(db):
    out = io.StringIO()
    demo.seed(years=1, scale=1, stdout=out)
    assert "nothing added" in out.getvalue() and not Alert.objects.exists()
