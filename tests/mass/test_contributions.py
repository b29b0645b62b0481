"""The one way apps contribute to each other (mass.contributions): every app registers what it
should in its AppConfig.ready(), and a registry refuses a second, different contribution under
a name already taken."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinical import panels as clinical_panels
from consultations import panels as consultation_panels
from consultations import selectors as consultation_selectors
from consultations import services as consultation_services
from dispensary import panels as dispensary_panels
from dispensary import selectors as dispensary_selectors
from dispensary import services as dispensary_services
from labs import panels as labs_panels
from labs import selectors as labs_selectors
from mass import contributions
from mass.contributions import Provided, Registry
from patients import panels as patient_panels
from patients import selectors as patient_selectors
from reporting import panels as reporting_panels
from reporting import selectors as reporting_selectors
from reporting import sql as reporting_sql
from social import panels as social_panels
from social import selectors as social_selectors
from vaccinations import panels as vaccination_panels
from vaccinations import selectors as vaccination_selectors

# The session's reference data needs the test database, even for tests that read none.
pytestmark = pytest.mark.django_db


def test_every_app_registers_its_contact_records():
    assert contributions.CONTACT_SOURCES.items() == [
        ("patients", patient_selectors.contact_day_querysets),
        ("consultations", consultation_selectors.contact_day_querysets),
        ("dispensary", dispensary_selectors.contact_day_querysets),
    ]
    models = {queryset.model._meta.label_lower
              for queryset in patient_selectors.all_contact_day_querysets()}
    assert models == {"patients.visit", "consultations.consultation",
                      "consultations.groupattendance", "dispensary.dispensation"}


def test_every_app_registers_its_panels_and_summary_sections():
    panels = {key: panel.context for key, panel in contributions.PATIENT_PANELS.items()}
    assert panels == {
        "outreach": patient_panels.outreach_context,
        "consultations": consultation_panels.consultations_context,
        "referrals": consultation_panels.referrals_context,
        "screening": consultation_panels.screening_context,
        "dispensary": dispensary_panels.panel_context,
        "social": social_panels.panel_context,
        "tdi": reporting_panels.tdi_context,
        "vaccinations": vaccination_panels.vaccinations_context,
        "labs": labs_panels.labs_context,
        "clinical": clinical_panels.clinical_panel_context,
    }
    sections = {key: section.context for key, section in contributions.SUMMARY_SECTIONS.items()}
    assert sections == {
        "consultations": consultation_panels.consultations_context,
        "referrals": consultation_panels.referrals_context,
        "screening": consultation_panels.screening_context,
        "dispensary": dispensary_panels.summary_context,
        "social": social_panels.summary_context,
        "vaccinations_due": vaccination_panels.vaccinations_due_context,
        "latest_tests": labs_panels.latest_tests_context,
    }
    clinical_sections = {key: section.context
                         for key, section in contributions.CLINICAL_SUMMARY_SECTIONS.items()}
    assert clinical_sections == {
        "problems": clinical_panels.problems_section,
        "alerts": clinical_panels.alerts_section,
        "treatment": clinical_panels.prescription_section,
        "measures": clinical_panels.measures_section,
        "vaccinations_due": vaccination_panels.vaccinations_due_context,
        "latest_tests": labs_panels.latest_tests_context,
    }


def test_every_app_registers_its_merge_checks_and_timeline_entries():
    assert contributions.MERGE_CHECKS.items() == [("dispensary",
                                                   dispensary_services.merge_conflicts)]
    assert contributions.MERGE_STEPS.items() == [
        ("consultations", consultation_services.attendances_after_merge)]
    assert contributions.TIMELINE_KINDS.items() == [
        ("dispensary", dispensary_selectors.dispensations_timeline_kind),
        ("social", social_selectors.social_actions_timeline_kind),
        ("vaccinations", vaccination_selectors.doses_timeline_kind),
        ("labs", labs_selectors.results_timeline_kind),
    ]


def test_every_provided_function_comes_from_its_app():
    assert {provided.name: provided.function for provided in (
        contributions.can_see_dispensing, contributions.prescriptions_in_force,
        contributions.readable_disciplines, contributions.episode_counted_sql,
        contributions.tdi_filled, contributions.tdi_record_ids)} == {
        "can_see_dispensing": dispensary_selectors.can_see_dispensing,
        "prescriptions_in_force": dispensary_selectors.prescriptions_in_force,
        "readable_disciplines": consultation_selectors.readable_disciplines,
        "episode_counted_sql": reporting_sql.episode_counted_sql,
        "tdi_filled": reporting_selectors.tdi_filled,
        "tdi_record_ids": reporting_selectors.tdi_record_ids,
    }


def test_a_registry_refuses_a_second_contribution_under_a_taken_name():
    registry = Registry("test")
    registry.register("a", len)
    registry.register("a", len)  # ready() run again: the same contribution, accepted
    with pytest.raises(ImproperlyConfigured):
        registry.register("a", max)
    assert registry.items() == [("a", len)]


def test_a_provided_function_answers_its_default_until_an_app_provides_it():
    provided = Provided("test", lambda user: False)
    assert provided(None) is False and not provided.provided
    provided.provide(lambda user: True)
    assert provided(None) is True
    with pytest.raises(ImproperlyConfigured):
        provided.provide(lambda user: True)
