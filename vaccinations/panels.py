"""The vaccinations panel of the patient file and its sections of the printed summary
(registered in vaccinations/apps.py): the read rule of vaccinations.selectors, two queries."""

from vaccinations import selectors


def vaccinations_context(request, patient):
    user = request.user
    if not selectors.vaccinations_visible(user):
        return None
    return {
        "patient": patient,
        "states": selectors.courses_for_user(user, patient),
        "can_add": user.has_perm("vaccinations.add_vaccinationcourse") and not patient.is_merged,
        "can_record": user.has_perm("vaccinations.add_vaccinationdose"),
    }


def vaccinations_due_context(request, patient):
    """The clinical summary's "vaccinations due": the next dose of each course not complete
    (the lead wires it to the clinical summary's registry at the merge)."""
    context = vaccinations_context(request, patient)
    if context is None:
        return None
    context["states"] = [state for state in context["states"] if not state.complete]
    return context
