"""The consultations app's panels of the patient file (see patients/panels.py). Each applies
the read rules of consultations.selectors and issues a fixed number of queries."""

from django.utils.translation import gettext_lazy as _

from consultations import selectors
from patients.panels import Panel, register_panel, register_summary_section

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


def register() -> None:
    register_panel(Panel(key="consultations", title=_("Consultations"),
                         template="consultations/panel_consultations.html",
                         context=consultations_context, order=30))
    register_panel(Panel(key="referrals", title=_("Referrals"),
                         template="consultations/panel_referrals.html",
                         context=referrals_context, order=60))
    register_panel(Panel(key="screening", title=_("HCV/HIV screening"),
                         template="consultations/panel_screening.html",
                         context=screening_context, order=70))
    # The printed summary (patients.panels.SUMMARY_SECTIONS): the same read rules, no buttons.
    register_summary_section(Panel(key="consultations", title=_("Consultations"),
                                   template="consultations/summary_consultations.html",
                                   context=consultations_context, order=30))
    register_summary_section(Panel(key="referrals", title=_("Referrals"),
                                   template="consultations/summary_referrals.html",
                                   context=referrals_context, order=60))
    register_summary_section(Panel(key="screening", title=_("HCV/HIV screening"),
                                   template="consultations/summary_screening.html",
                                   context=screening_context, order=70))
