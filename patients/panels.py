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
