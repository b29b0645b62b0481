"""The services' own guards, called directly as the declare command or a shell would (the
page refuses the same input first). Each refusal writes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mass.models import AuditEvent
from mass.refusals import refusal_text
from reporting import services
from reporting.models import DeclaredYear

pytestmark = pytest.mark.usefixtures("english")


def test_the_year_in_progress_cannot_be_declared(coordinator_user):
    year = timezone.localdate().year
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.year_declare(year=year, reason="", actor=coordinator_user)
    assert refusal_text(caught.value) == (f"Only a finished year can be declared: {year} "
                                          "is not over.")
    assert not DeclaredYear.objects.exists()
    assert AuditEvent.objects.count() == audit_rows
