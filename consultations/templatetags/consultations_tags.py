from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def patient_file_url(patient) -> str:
    """The patient file, or the timeline while the patient file page is not served."""
    try:
        return patient.get_absolute_url()
    except NoReverseMatch:
        return reverse("consultations:timeline", args=[patient.pk])
