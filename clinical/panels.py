"""The clinical app's panel of the patient file and sections of the clinical summary
(registered in clinical/apps.py). Each applies the read rules of clinical.rules and the
alerts' and dispensary's own (through their selectors and mass.contributions), with a fixed
number of queries whatever the number of records."""

from alerts.models import Alert
from alerts.rules import readable_kinds
from alerts.selectors import active_alerts
from clinical import rules, selectors
from mass.contributions import prescriptions_in_force

#: Measurements read for the last values and the summary (the charts' page reads them all).
RECENT_MEASUREMENTS = 50


def _ecg_due(request, patient):
    # Shown to whoever reads the alerts of its kind (alerts.rules: the medical readers).
    if Alert.Kind.QT_ECG not in readable_kinds(request.user):
        return None
    return selectors.ecg_due(patient=patient)


def _recent_measurements(user, patient) -> list:
    return list(selectors.measurements_for_user(user=user, patient=patient)
                [:RECENT_MEASUREMENTS])


def clinical_panel_context(request, patient):
    """The patient file's panel: current problems, the last measures, "ECG due"."""
    user = request.user
    sees_problems = selectors.may_see_problems(user)
    sees_measures = rules.may_read_measures(user)
    if not (sees_problems or sees_measures):
        return None
    return {
        "patient": patient,
        "sees_problems": sees_problems, "sees_measures": sees_measures,
        "problems": selectors.problem_list(user=user, patient=patient),
        "last_measures": selectors.last_measures(_recent_measurements(user, patient))
        if sees_measures else [],
        "can_add_problem": user.has_perm("clinical.add_problem") and not patient.is_merged,
        "can_add_measure": user.has_perm("clinical.add_measurement") and not patient.is_merged,
    }


def problems_section(request, patient):
    if not selectors.may_see_problems(request.user):
        return None
    return {"problems": selectors.problem_list(user=request.user, patient=patient),
            "can_add": request.user.has_perm("clinical.add_problem")
            and not patient.is_merged}


def alerts_section(request, patient):
    if not readable_kinds(request.user):
        return None
    return {"alerts": active_alerts(user=request.user, patient=patient),
            "ecg_due": _ecg_due(request, patient)}


def prescription_section(request, patient):
    prescriptions = prescriptions_in_force(user=request.user, patient=patient)
    if prescriptions is None:
        return None
    return {"prescriptions": prescriptions}


def measures_section(request, patient):
    if not rules.may_read_measures(request.user):
        return None
    return {"last_measures": selectors.last_measures(
        _recent_measurements(request.user, patient)),
        "can_add": request.user.has_perm("clinical.add_measurement")
        and not patient.is_merged}
