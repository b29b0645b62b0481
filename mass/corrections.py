"""Corrections as new rows (docs/domain.md: history is never changed): the rule every app's
cancellation follows, so that a walk-in, a harm-reduction entry, a group attendance and a
screening test are cancelled alike.

Who may cancel: whoever recorded the entry (they know it was a mistake), or a coordinator
(who answers for the figures and fixes what the author cannot any more: someone who left,
someone on holiday). A screening test is medical: coordinators may not read it, so its
second pair of hands is a doctor's. Anyone else may read the record but not cancel it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mass.accounts.roles import Role, has_role
from mass.forms import CancellationForm
from mass.redirects import safe_next
from mass.refusals import refusal_on_form


def may_cancel(user, *, author_id: int | None, overseer: Role = Role.COORDINATOR) -> bool:
    """Whether ``user`` may cancel an entry recorded by ``author_id``."""
    return (author_id is not None and user.pk == author_id) or has_role(user, overseer)


def cancellation_check(*, record, author_id: int | None, reason: str, actor,
                       overseer: Role = Role.COORDINATOR) -> str:
    """Refuse a cancellation that may not be written; the reason, stripped, when it may.

    ``record`` is the record locked for update (so that two cancellations at once are
    served one after the other); it is cancelled already when it has a ``cancellation``."""
    if not may_cancel(actor, author_id=author_id, overseer=overseer):
        raise PermissionDenied
    if _is_cancelled(record):
        raise ValidationError(_("This entry is already cancelled."), code="cancelled")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why this entry is cancelled."), code="reason")
    return reason


def _is_cancelled(record) -> bool:
    # Asked of the database (the record was just locked): a cached relation could be stale.
    return type(record)._default_manager.filter(pk=record.pk,
                                                cancellation__isnull=False).exists()


def cancellation_page(request, *, record, author_id: int | None, cancel, back: str,
                      title, entry: list, patient=None, overseer: Role = Role.COORDINATOR,
                      done, read=None):
    """The page that cancels one entry: what it is, why (a reason), then back to ``back``
    (or the ``next`` path given). ``cancel(reason=...)`` is the app's service; ``entry`` the
    (label, value) lines that say which entry it is; ``done`` the message once cancelled;
    ``read()`` audits the read of the patient's record the page is (once allowed).

    Whoever may read the entry but not cancel it gets 403, before any form; the view has
    already given 404 to whoever may not read it."""
    if not may_cancel(request.user, author_id=author_id, overseer=overseer):
        raise PermissionDenied
    if read is not None:
        read()
    back = safe_next(request, back)
    form = CancellationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancel(reason=form.cleaned_data["reason"])
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, done)
            return redirect(back)
    cancellation = getattr(record, "cancellation", None) if _is_cancelled(record) else None
    return render(request, "mass/cancel.html", {
        "form": form, "title": title, "entry": entry, "patient": patient, "back": back,
        "cancellation": cancellation})
