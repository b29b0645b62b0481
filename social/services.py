"""Writes on the social file. Each is one transaction with its audit row."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.audit import Action, audit_record
from social.models import SITUATION_MODELS, SituationRecord, SocialAction, SocialActionUpdate


def _check_date(date: datetime.date) -> None:
    # The forms say it first; this guards the scripts and shells that call services directly.
    if date > timezone.localdate():
        raise ValidationError(_("A situation cannot be dated in the future."), code="future")


@transaction.atomic
def situation_record(*, patient, date: datetime.date, changes: dict[str, dict],
                     actor) -> list[SituationRecord]:
    """Record that, from ``date`` on, the situation changed as ``changes`` says (a dict of
    dimension -> field values). One new row per dimension; nothing is overwritten."""
    _check_date(date)
    if not changes:
        raise ValidationError(_("Nothing to record."), code="empty")
    records = []
    for dimension, values in changes.items():
        model = SITUATION_MODELS[dimension]
        record = model(patient=patient, date=date, recorded_by=actor, **values)
        record.full_clean()
        record.save()
        records.append(record)
        audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=record,
                     summary=gettext_noop("social situation: %(dimension)s since %(date)s"),
                     params={"dimension": dimension, "date": str(date)},
                     details={"dimension": dimension, **values})
    return records


@transaction.atomic
def situation_correct(*, record: SituationRecord, date: datetime.date, values: dict,
                      reason: str, actor) -> SituationRecord:
    """Correct a mistaken row: a new row with the right date and value, pointing at it."""
    _check_date(date)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why this is corrected."), code="no_reason")
    model = type(record)
    # Lock the row so two people correcting it at once cannot both succeed.
    record = model.objects.select_for_update().get(pk=record.pk)
    if model.objects.filter(corrects=record).exists():
        raise ValidationError(_("This entry has already been corrected; correct the "
                                "correction instead."), code="already_corrected")
    correction = model(patient_id=record.patient_id, date=date, recorded_by=actor,
                       corrects=record, correction_reason=reason, **values)
    correction.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            correction.save()
    except IntegrityError:  # the one-to-one on ``corrects``: corrected meanwhile
        raise ValidationError(_("This entry has already been corrected; correct the "
                                "correction instead."), code="already_corrected") from None
    audit_record(actor=actor, action=Action.UPDATE, patient=record.patient, obj=correction,
                 summary=gettext_noop("social situation: %(dimension)s corrected"),
                 params={"dimension": record.dimension},
                 details={"corrects": record.pk, "reason": reason, "date": str(date),
                          **values})
    return correction


@transaction.atomic
def social_action_open(*, patient, type: str, social_worker, partner=None,
                       opened_on: datetime.date, due_on: datetime.date | None = None,
                       notes: str = "", actor) -> SocialAction:
    if due_on is not None and due_on < opened_on:
        raise ValidationError(_("The due date cannot be before the opening date."))
    action = SocialAction(patient=patient, type=type, social_worker=social_worker,
                          partner=partner, opened_on=opened_on, due_on=due_on,
                          notes=notes.strip(), created_by=actor)
    action.full_clean()
    action.save()
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=action,
                 summary=gettext_noop("social action %(action_type)s opened"),
                 params={"action_type": type},
                 details={"social_worker": social_worker.pk,
                          "due_on": str(due_on) if due_on else None})
    return action


@transaction.atomic
def social_action_edit(*, action: SocialAction, social_worker, partner,
                       due_on: datetime.date | None, actor) -> SocialAction:
    """Reassign an open action, change its partner or its due date."""
    action = SocialAction.objects.select_for_update().get(pk=action.pk)
    if not action.is_open:
        raise ValidationError(_("This action is closed; open a new action instead."))
    if due_on is not None and due_on < action.opened_on:
        raise ValidationError(_("The due date cannot be before the opening date."))
    before = {"social_worker": action.social_worker_id, "partner": action.partner_id,
              "due_on": str(action.due_on) if action.due_on else None}
    action.social_worker, action.partner, action.due_on = social_worker, partner, due_on
    action.save(update_fields=["social_worker", "partner", "due_on", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, patient=action.patient, obj=action,
                 summary=gettext_noop("social action %(action_type)s changed"),
                 params={"action_type": action.type},
                 details={"before": before,
                          "after": {"social_worker": social_worker.pk,
                                    "partner": partner.pk if partner else None,
                                    "due_on": str(due_on) if due_on else None}})
    return action


@transaction.atomic
def social_action_progress(*, action: SocialAction, status: str, note: str = "",
                           outcome: str = "", actor) -> SocialActionUpdate:
    """A step of an open action: a status change and/or a follow-up note, kept in its
    journal. Closing (done, abandoned) needs an outcome; a closed action stays closed."""
    action = SocialAction.objects.select_for_update().get(pk=action.pk)
    note, outcome = note.strip(), outcome.strip()
    if not action.is_open:
        raise ValidationError(_("This action is closed; open a new action instead."))
    closing = status in SocialAction.CLOSED_STATUSES
    if closing and not outcome:
        raise ValidationError(_("Give the outcome to close the action."))
    if status == action.status and not note:
        raise ValidationError(_("Change the status or write a note."))
    previous = action.status
    if status != previous:
        action.status = status
        fields = ["status", "updated_at"]
        if closing:
            action.outcome = outcome
            action.closed_on = max(timezone.localdate(), action.opened_on)
            fields += ["outcome", "closed_on"]
        action.save(update_fields=fields)
    update = SocialActionUpdate.objects.create(
        action=action, patient_id=action.patient_id, author=actor,
        status_from=previous if status != previous else "",
        status_to=status if status != previous else "", note=note)
    audit_record(actor=actor, action=Action.UPDATE, patient=action.patient, obj=action,
                 summary=gettext_noop("social action %(action_type)s: %(status_from)s -> "
                                      "%(status_to)s"),
                 params={"action_type": action.type, "status_from": previous,
                         "status_to": status},
                 details={"update": update.pk, "status_from": previous, "status_to": status})
    return update
