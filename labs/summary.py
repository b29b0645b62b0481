"""The section "Latest tests / cascade step" of the clinical summary (issue 17 part 6), as a
plain provider ``(patient, request) -> context | None`` with its template, registered on the
clinical summary and on the printed summary (labs.apps, through
labs.panels.latest_tests_context)."""

from labs import selectors

TEMPLATE = "labs/summary_latest_tests.html"


def latest_tests_section(patient, request) -> dict | None:
    """The step each cascade (HCV, HIV) has reached with its steps' latest records, and the
    latest results; None for a user who may not read lab results. Four queries."""
    user = request.user
    if not selectors.labs_visible(user):
        return None
    return {
        "patient": patient,
        "cascades": selectors.cascades(patient=patient),
        "results": list(selectors.results_for_user(user, patient)[:selectors.PANEL_ROWS]),
    }
