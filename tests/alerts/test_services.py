"""The services' own guards, called directly as a script or a shell would (the forms refuse
the same input first). Each refusal writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from alerts import services
from alerts.models import Alert
from mass.models import AuditEvent
from tests.factories import PatientFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize("kind,text,message", [
    ("", "Text", "Choose the kind of alert: nothing was recorded."),
    ("curse", "Text", "Unknown kind of alert: nothing was recorded."),
    # A QT risk is a doctor's alert.
    ("qt_ecg", "QT 480 ms", "Your role does not record alerts of this kind (QT risk / ECG due)."),
    ("behaviour", "   ", "Say in a few words what to know: nothing was recorded."),
])
def test_an_alert_refused_writes_nothing(nurse_user, kind, text, message):
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.alert_record(patient=PatientFactory(), kind=kind, text=text, actor=nurse_user)
    assert caught.value.message == message
    assert not Alert.objects.exists()
    assert AuditEvent.objects.count() == audit_rows
