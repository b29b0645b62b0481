"""Display labels of the codes that the figures' SQL returns (disciplines, sexes, sites)."""

from django.utils.translation import gettext as _


def discipline_label(value: str) -> str:
    from consultations.models import Consultation
    return str(dict(Consultation.Discipline.choices).get(value, value))


def sex_label(value: str) -> str:
    from patients.models import Patient
    return str(dict(Patient.Sex.choices).get(value, value))


def site_label(row: dict) -> str:
    """A row of the breakdown by site: its name, "several sites" or "not recorded"."""
    if row.get("several_sites"):
        return _("Several sites")
    return row.get("site_name") or _("Site not recorded")


def route_label(key: str) -> str:
    """A contact's route (the label of a model, "patients.visit") as its verbose name."""
    from django.apps import apps
    try:
        return str(apps.get_model(key)._meta.verbose_name)
    except (LookupError, ValueError):
        return key
