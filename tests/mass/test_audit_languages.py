"""Audit summaries are stored as a code and parameters (mass.audit) and read in the reader's
language (mass.audit.summaries.summary_render): a consultation recorded by a Dutch-speaking
psychiatrist no longer reads "consultation Psychiatrisch" to a French-speaking coordinator
who is also a doctor. The discipline rule of the trail still holds."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from consultations import services as consultations
from consultations.models import Consultation, ScreeningTest
from dispensary.models import Dispensation
from mass.accounts.roles import Role
from mass.audit import Action, audit_record, phrase
from mass.audit.chain import audit_row_canonical, audit_seal, audit_verify
from mass.audit.summaries import SUMMARY_READERS, summary_for_reader, summary_render
from mass.models import AuditEvent
from tests.conftest import make_staff
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PSYCHIATRIC = Consultation.Discipline.PSYCHIATRIC


def reader(language: str):
    """A coordinator who is also a doctor (reads consultations in the trail), in
    ``language``: the account's language is the one its pages open in."""
    user = make_staff(Role.COORDINATOR, Role.DOCTOR, username=f"t_reader_{language}",
                      language=language)
    client = Client()
    client.force_login(user)
    return client


def label_in(language: str, label) -> str:
    with translation.override(language):
        return str(label)


def recorded_in_dutch():
    """A psychiatric consultation recorded while Dutch is the active language, as the demo's
    psychiatrist (language nl) does."""
    psychiatrist = make_staff(Role.PSYCHIATRIST, username="t_pieter", language="nl")
    patient = PatientFactory(alias="Taal")
    day = timezone.localdate() - datetime.timedelta(days=1)
    with translation.override("nl"):
        consultation = consultations.consultation_create(
            patient=patient, discipline=PSYCHIATRIC, date=day, note="NOTE-TEXT-NEVER-SHOWN",
            actor=psychiatrist)
    return AuditEvent.objects.get(object_type="consultations.consultation",
                                  object_id=str(consultation.pk), action=Action.CREATE), day


def test_the_same_event_reads_in_french_dutch_and_english():
    event, day = recorded_in_dutch()
    # Stored as a code with the discipline's code, whatever the writer's language...
    assert event.summary_code == "consultation %(discipline)s %(date)s"
    assert event.summary_params == {"discipline": "psychiatric", "date": day.isoformat()}
    # ...and the column keeps the sentence in English.
    assert event.summary == f"consultation Psychiatric {day.isoformat()}"

    labels = {language: label_in(language, PSYCHIATRIC.label) for language in ("fr", "nl", "en")}
    assert len(set(labels.values())) == 3  # the catalogues name it in each language
    for language in ("fr", "nl", "en"):
        page = reader(language).get(reverse("audit_list"),
                                    {"patient": event.patient_id}).content.decode()
        with translation.override(language):
            expected = summary_render(event.summary_code, event.summary_params)
        assert expected in page
        assert labels[language] in expected
        others = [label for other, label in labels.items() if other != language]
        assert not any(f"consultation {label}" in page for label in others)
        assert "NOTE-TEXT-NEVER-SHOWN" not in page


def test_the_discipline_rule_still_hides_what_the_reader_may_not_see():
    """A coordinator does not read which test a screening was, in any language; a nurse
    reads it in hers."""
    event = AuditEvent(action=Action.CREATE, patient=PatientFactory(),
                       object_type="consultations.screeningtest",
                       summary="screening HIV 2026-01-02",
                       summary_code="screening %(test)s %(date)s",
                       summary_params={"test": "hiv", "date": "2026-01-02"})
    coordinator = make_staff(Role.COORDINATOR, username="t_coordinator_lang")
    nurse = make_staff(Role.NURSE, username="t_nurse_lang")
    neutral = SUMMARY_READERS["consultations.screeningtest"][1]
    test_label = ScreeningTest.Test("hiv").label
    for language in ("fr", "nl", "en"):
        with translation.override(language):
            assert summary_for_reader(event, user=coordinator) == str(neutral)
            assert str(test_label) in summary_for_reader(event, user=nurse)


def test_a_row_written_before_the_codes_shows_as_stored(coordinator_user):
    """A row of before issue 14 has no code: shown as it was written, in any language."""
    AuditEvent.objects.create(actor=coordinator_user, username=coordinator_user.username,
                              action=Action.VIEW, summary="consultation Psychiatrisch 2025-03-01")
    client = Client()
    client.force_login(coordinator_user)
    page = client.get(reverse("audit_list")).content.decode()
    assert "consultation Psychiatrisch 2025-03-01" in page


def test_rows_before_and_after_the_codes_seal_and_verify():
    """The hash covers the code and parameters of the new rows; the rows written before keep
    the hash they had (the new columns are left out of their canonical form)."""
    old = AuditEvent.objects.create(action=Action.VIEW, summary="opened file")
    new = audit_record(actor=None, action=Action.VIEW, summary="patient file %(file)s",
                       params={"file": "A000001"})
    old_form = json.loads(audit_row_canonical(old, position=1, previous_id=None))
    new_form = json.loads(audit_row_canonical(new, position=2, previous_id=old.pk))
    assert "summary_code" not in old_form and "summary_params" not in old_form
    assert new_form["summary_code"] == "patient file %(file)s"
    assert new_form["summary_params"] == {"file": "A000001"}
    assert audit_seal() >= 2
    assert audit_verify().first_break is None


def test_choice_parameters_are_labelled_and_notes_follow():
    """A dose given after a new assessment, recorded from the paper sheet: the part is a
    code labelled at reading, the notes are phrases of their own."""
    params = {"quantity": "60 mg", "product": "Methadone syrup 1 mg/ml", "part": "day",
              "day": "2026-01-02",
              "notes": [phrase("after a new intoxication assessment"),
                        phrase("recorded after the fact: on paper %(given_at)s by "
                               "%(username)s", given_at="2026-01-02 09:00", username="nadia")]}
    text = summary_render("dispensed %(quantity)s %(product)s %(part)s for %(day)s", params,
                          language="en")
    assert text == ("dispensed 60 mg Methadone syrup 1 mg/ml Daily dose for 2026-01-02; after a "
                    "new intoxication assessment; recorded after the fact: on paper "
                    "2026-01-02 09:00 by nadia")
    assert label_in("fr", Dispensation.Part.DAY.label) in summary_render(
        "dispensed %(quantity)s %(product)s %(part)s for %(day)s", params, language="fr")


def test_role_parameters_read_as_role_names():
    text = summary_render("role %(role)s requested for %(username)s",
                          {"role": "social_worker", "username": "samira"}, language="nl")
    assert "social_worker" not in text
    assert label_in("nl", Role.SOCIAL_WORKER.label) in text


def test_every_labelled_parameter_names_a_field_that_exists():
    """A renamed model or field would break the trail's page: each labeller answers."""
    from mass.audit.summaries import PARAM_LABELS
    for name, labeller in PARAM_LABELS.items():
        assert str(labeller("no-such-code")) == "no-such-code", name


def test_a_summary_that_does_not_fit_its_parameters_shows_its_code():
    """A stray "%" (or a translator's slip) gives the sentence as written, never an error."""
    code = "100% of %(file)s"
    assert summary_render(code, {"file": "A1"}, language="nl") == code
