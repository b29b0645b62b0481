"""The social panel of the patient file and its printed summary
(registered in social/apps.py)."""

from django.utils import timezone

from social import selectors
from social.forms import SituationChangeForm


def panel_context(request, patient) -> dict | None:
    """Current situation and its history, the patient's actions, the quick change form.
    Queries: one per dimension of the situation, one for the actions."""
    user = request.user
    see_situation = selectors.can_view_situation(user)
    see_actions = selectors.can_view_actions(user)
    if not (see_situation or see_actions):
        return None
    context = {"patient": patient, "today": timezone.localdate(),
               "see_situation": see_situation, "see_actions": see_actions,
               "can_record": selectors.can_record_situation(user),
               "can_open_action": user.has_perm("social.add_socialaction")}
    if see_situation:
        context["history"] = selectors.situation_history(patient=patient)
        if context["can_record"]:
            context["change_form"] = SituationChangeForm(auto_id="id_social_%s")
    if see_actions:
        actions = selectors.patient_social_actions(patient=patient)
        context["actions"] = [
            (action, selectors.can_read_social_notes(user, author_id=action.created_by_id))
            for action in actions
        ]
    return context


def summary_context(request, patient) -> dict | None:
    """The printed summary's section: the current social situation, for those who read it
    (the social actions and their notes stay on the file). One query per dimension."""
    if not selectors.can_view_situation(request.user):
        return None
    return {"history": selectors.situation_history(patient=patient)}
