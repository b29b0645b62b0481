"""Panels of the patient file. Each app that attaches records to a patient registers a panel
in its ``AppConfig.ready()``; the patient file view (patients.views) shows the panels whose
``context`` returns something for the signed-in user, in ``order``.

A panel's ``context(request, patient)`` returns a dict for its template, or ``None`` when this
user may not see the panel at all. It must issue a bounded number of queries (no query per
row), and it must apply the app's own read rules (selectors taking the user).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    template: str
    context: Callable[[HttpRequest, object], dict | None]
    order: int = 100


PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    PANELS[panel.key] = panel


def panels_for(request, patient) -> list[tuple[Panel, dict]]:
    shown = []
    for panel in sorted(PANELS.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(request, patient)
        if context is not None:
            shown.append((panel, context))
    return shown


#: The sections of the printed patient summary (patients.views.patient_summary), registered
#: by each app like its panel: ``context(request, patient)`` applies the app's own read rules
#: and returns ``None`` when this user may not see the section at all, so the summary shows
#: a reader exactly what the file shows them, without the buttons.
SUMMARY_SECTIONS: dict[str, Panel] = {}


def register_summary_section(section: Panel) -> None:
    SUMMARY_SECTIONS[section.key] = section


def summary_sections_for(request, patient) -> list[tuple[Panel, dict]]:
    shown = []
    for section in sorted(SUMMARY_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = section.context(request, patient)
        if context is not None:
            shown.append((section, context))
    return shown


def outreach_context(request, patient):
    """The outreach attempts of "who have we lost", for those who see the worklist."""
    from patients import selectors
    from patients.models import OutreachAttempt

    attempts = selectors.patient_outreach_attempts(user=request.user, patient=patient)
    if attempts is None:
        return None
    can_record = (request.user.has_perm("patients.add_outreachattempt")
                  and not patient.is_merged)
    return {"patient": patient, "attempts": attempts, "can_record": can_record,
            "sites": selectors.reception_sites() if can_record else [],
            "means_choices": OutreachAttempt.Means.choices,
            "result_choices": OutreachAttempt.Result.choices}


def register() -> None:
    register_panel(Panel(key="outreach", title=_("Outreach attempts"),
                         template="patients/panel_outreach.html", context=outreach_context,
                         order=95))
