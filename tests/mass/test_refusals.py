"""A service refuses one way (mass.refusals): ValidationError with the sentence for the user,
shown on the form or as a message, nothing written."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from mass.forms import CancellationForm
from mass.models import AuditEvent, SiteClosure
from mass.refusals import refusal_on_form, refusal_text
from mass.sites import services
from tests.factories import woeringen


def test_refusal_on_form_shows_every_sentence_above_the_fields():
    form = CancellationForm({"reason": "typed"})
    assert form.is_valid()
    refusal_on_form(form, ValidationError(["First.", "Second."]))
    assert form.non_field_errors() == ["First.", "Second."]
    assert refusal_text(ValidationError(["First.", "Second."])) == "First. Second."


def test_refusal_naming_a_field_of_the_form_goes_under_that_field():
    form = CancellationForm({"reason": "typed"})
    assert form.is_valid()
    refusal_on_form(form, ValidationError({"reason": "Not this reason."}))
    assert form.errors == {"reason": ["Not this reason."]}
    # A field the form does not have: above the fields, as before.
    other = CancellationForm({"reason": "typed"})
    assert other.is_valid()
    refusal_on_form(other, ValidationError({"date": "Not this day."}))
    assert other.non_field_errors() == ["Not this day."]


def test_a_service_that_had_its_own_exception_refuses_with_validation_error(db,
                                                                           coordinator_user):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    events = AuditEvent.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.site_closure_create(site=woeringen(), first_day=yesterday, last_day=yesterday,
                                     reason="Grève", actor=coordinator_user)
    assert "A closure cannot start in the past" in refusal_text(refused.value)
    assert not SiteClosure.objects.exists() and AuditEvent.objects.count() == events
