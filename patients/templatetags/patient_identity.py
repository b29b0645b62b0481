"""``{% identity_facts %}``: the facts line of patients.identity on a page of one person
(the dispense form, the patient file), the same as on the lists."""

from django import template
from django.utils.safestring import mark_safe

from patients.identity import Identity

register = template.Library()


@register.simple_tag
def identity_facts(who, has_photo, last_visit, show_photos) -> str:
    """Birth year, sex and last visit unless the photo shows, and the distinguishing
    feature; escaped by Identity.facts."""
    return mark_safe(Identity(show_photos=bool(show_photos)).facts(
        has_photo=bool(has_photo), birth_year=who.birth_year, sex=who.sex,
        last_visit=last_visit, note=who.distinguishing_note))


@register.simple_tag
def patient_identity(patient, show_photos) -> str:
    """The thumbnail and facts line of a person in a short list (the likely duplicates at
    registration, the candidates of a picker): a Patient loaded with ``has_photo`` and
    ``last_visit`` (selectors.patient_search, patient_duplicates)."""
    thumbnail, facts = Identity(show_photos=bool(show_photos)).of_patient(patient)
    return mark_safe(thumbnail + facts)
