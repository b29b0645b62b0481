"""The substitution panel of the patient file and its printed summary
(registered in dispensary/apps.py)."""

from django.utils import timezone

from dispensary import selectors


def panel_context(request, patient) -> dict | None:
    """Today's doses with the one-action buttons, current prescriptions, the dose plot, the
    last 30 entries, the reviews and the prescription history; for nurses, doctors and
    psychiatrists only. Five queries, whatever the length of the history."""
    if not selectors.can_see_dispensing(request.user):
        return None
    return patient_context(request, patient)


def patient_context(request, patient, *, entries=None) -> dict:
    """What the panel and the patient's dispensing page show, in a fixed number of queries:
    ``entries`` are the ledger entries to list (default: the last 30)."""
    today = timezone.localdate()
    history = selectors.prescription_history(patient=patient)
    if entries is None:
        entries = list(selectors.dispensation_history(patient=patient)[:30])
    return {
        "states": selectors.dose_states(today=today, patient_id=patient.pk),
        "prescriptions": history,
        "current": [rx for rx in history if rx.is_active_on(today)
                    or rx.start_date > today],
        "entries": entries,
        "reviews": selectors.hold_reviews(patient=patient),
        "plot": selectors.dose_plot(prescriptions=history, today=today),
        "today": today,
        "next": request.get_full_path(),
    }


def summary_context(request, patient) -> dict | None:
    """The printed summary's section: the prescriptions running or to come, for the same
    readers as the panel. One query."""
    if not selectors.can_see_dispensing(request.user):
        return None
    today = timezone.localdate()
    return {"current": [rx for rx in selectors.prescription_history(patient=patient)
                        if rx.is_active_on(today) or rx.start_date > today]}
