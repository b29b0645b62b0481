import datetime
from io import StringIO

from reporting import demo
from reporting.forms import TdiForm
from reporting.models import TdiRecord
from tests.factories import EpisodeFactory, PatientFactory


def test_demo_questionnaires_are_idempotent_and_valid(db):
    for n in range(60):
        EpisodeFactory(patient=PatientFactory(birth_year=1970 + n % 30),
                       opened_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=n))
    demo.seed(years=2, scale=1, stdout=StringIO())
    count = TdiRecord.objects.count()
    assert 40 < count < 60  # about one in ten left missing on purpose
    demo.seed(years=2, scale=1, stdout=StringIO())
    assert TdiRecord.objects.count() == count
    for record in TdiRecord.objects.select_related("episode__patient"):
        data = {name: getattr(record, name) for name in TdiForm.Meta.fields}
        form = TdiForm({k: "" if v is None else v for k, v in data.items()},
                       episode=record.episode)
        assert form.is_valid(), form.errors
