"""The section "Vaccinations due" of the clinical summary (issue 17 part 6), as a plain
provider ``(patient, request) -> context | None`` with its template, registered on the clinical
summary and on the printed summary (vaccinations.apps, through
vaccinations.panels.vaccinations_due_context)."""

from vaccinations import selectors

TEMPLATE = "vaccinations/summary_vaccinations_due.html"


def vaccinations_due_section(patient, request) -> dict | None:
    """The next dose of each course not complete, with its due day (overdue flagged); None
    for a user who may not read vaccinations. Two queries."""
    if not selectors.vaccinations_visible(request.user):
        return None
    states = selectors.courses_for_user(request.user, patient)
    return {"patient": patient, "states": [state for state in states if not state.complete]}
