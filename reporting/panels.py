"""The TDI panel of the patient file (registered in reporting/apps.py): each episode of the
person and whether its TDI questionnaire is filled in. One query."""

from reporting import selectors


def tdi_context(request, patient):
    episodes = selectors.tdi_episodes_of_patient(user=request.user, patient=patient)
    if episodes is None:
        return None
    return {
        "patient": patient,
        "episodes": episodes,
        # The questionnaire due is the one of the person's latest episode that counts (not
        # one a merge joined into another).
        "latest": next((e for e in episodes if e.joined_into_id is None), None),
        "can_fill": request.user.has_perm("reporting.add_tdirecord") and not patient.is_merged,
    }
