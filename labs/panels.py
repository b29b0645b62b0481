"""The labs panel of the patient file and its section of the printed summary (registered in
labs/apps.py): the read rule of labs.selectors, a fixed number of queries."""

from labs import selectors, summary
from mass.accounts.roles import Role, has_role


def labs_context(request, patient):
    user = request.user
    if not selectors.labs_visible(user):
        return None
    return {
        "patient": patient,
        "results": list(selectors.results_for_user(user, patient)[:selectors.PANEL_ROWS]),
        "treatments": list(selectors.treatments_for_user(user, patient)),
        "cascades": selectors.cascades(patient=patient),
        "can_add": user.has_perm("labs.add_labresult") and not patient.is_merged,
        "can_treat": user.has_perm("labs.add_treatment") and not patient.is_merged,
        "can_end": user.has_perm("labs.change_treatment"),
        # Who may cancel an entry (mass.corrections): its author, or any doctor.
        "cancels_any": has_role(user, Role.DOCTOR),
        "user_id": user.pk,
    }


def latest_tests_context(request, patient):
    """The printed summary's section: the clinical summary's provider (labs.summary), in
    the panels' argument order."""
    return summary.latest_tests_section(patient, request)
