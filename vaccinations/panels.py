"""The vaccinations panel of the patient file and its sections of the printed summary
(registered in vaccinations/apps.py): the read rule of vaccinations.selectors, two queries."""

from vaccinations import selectors, summary


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
    """The printed summary's section: the clinical summary's provider
    (vaccinations.summary), in the panels' argument order."""
    return summary.vaccinations_due_section(patient, request)
