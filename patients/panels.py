"""The patients app's own panel of the patient file (registered in patients/apps.py, like the
other apps' panels: mass.contributions.PATIENT_PANELS)."""


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
