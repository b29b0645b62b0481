"""The consultations app's panels of the patient file and sections of its printed summary
(registered in consultations/apps.py). Each applies the read rules of consultations.selectors
and issues a fixed number of queries."""

from consultations import selectors

PANEL_ROWS = 10


def consultations_context(request, patient):
    user = request.user
    if not selectors.may_see_consultations(user):
        return None
    return {
        "patient": patient,
        "consultations": list(selectors.consultations_for_user(user, patient, limit=PANEL_ROWS)),
        "can_add": user.has_perm("consultations.add_consultation") and not patient.is_merged,
    }


def referrals_context(request, patient):
    user = request.user
    if not user.has_perm("consultations.view_referral"):
        return None
    referrals = list(selectors.referrals_for_patient(patient=patient)[:PANEL_ROWS])
    for referral in referrals:
        referral.reason_visible = selectors.referral_reason_visible(user, referral)
    return {
        "patient": patient,
        "referrals": referrals,
        "can_add": user.has_perm("consultations.add_referral") and not patient.is_merged,
        "can_change": user.has_perm("consultations.change_referral"),
    }


def screening_context(request, patient):
    user = request.user
    if not selectors.screening_visible(user):
        return None
    return {
        "patient": patient,
        "screening_tests": list(selectors.screening_tests_for_user(user, patient)[:PANEL_ROWS]),
        "can_add": user.has_perm("consultations.add_screeningtest") and not patient.is_merged,
        "can_change": user.has_perm("consultations.change_screeningtest"),
    }
