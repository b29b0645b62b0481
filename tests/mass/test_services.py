"""The services' own guards, called directly as a script or a shell would (the forms refuse
the same input first). Each refusal writes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mass.models import AuditEvent, SiteClosure
from mass.refusals import refusal_text
from mass.sites import services
from tests.factories import woeringen

pytestmark = pytest.mark.usefixtures("english")

TODAY = timezone.localdate


@pytest.mark.parametrize("first,last,reason,message", [
    (1, 2, "  ", "Say why the site is closed."),
    (3, 2, "Works", "The last closed day is before the first one."),
])
def test_a_closure_refused_writes_nothing(coordinator_user, first, last, reason, message):
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.site_closure_create(
            site=woeringen(), first_day=TODAY() + datetime.timedelta(days=first),
            last_day=TODAY() + datetime.timedelta(days=last), reason=reason,
            actor=coordinator_user)
    assert refusal_text(caught.value) == message
    assert not SiteClosure.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_closure_cannot_start_in_the_past(coordinator_user):
    yesterday = TODAY() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        services.site_closure_create(site=woeringen(), first_day=yesterday,
                                     last_day=TODAY(), reason="Works", actor=coordinator_user)
    assert refusal_text(caught.value).startswith("A closure cannot start in the past (")
    assert not SiteClosure.objects.exists()
