"""The audit trail. This package holds the recorder itself (here, so that every service keeps
importing ``mass.audit.audit_record``), the hash chain that shows tampering (``chain``) and
the summaries read in each reader's language (``summaries``). The ``AuditEvent`` model stays
in ``mass.models`` (app label ``mass``); the audit list and "who read this file" are in
``mass.selectors``.

One call, ``audit_record``, used by every service and view that reads a
patient file or changes anything. It runs in the caller's transaction, so a change and its
audit row are committed together or not at all.

A summary is written as a code plus parameters, so that each reader reads it in their own
language (``mass.audit.summaries.summary_render``): the code is the English sentence marked
with ``gettext_noop`` (``"walk-in %(purpose)s"``), the parameters are stored in the row's
columns ``summary_code`` and ``summary_params``, choices as their codes (``"dispensing"``,
not "Délivrance"). The row's ``summary`` column keeps the sentence rendered in English: the
trail stays readable in the database and in a backup, and older code that searches it
(``reporting.declaring``) keeps working. Rows written before this (no code) show as stored.
"""

from contextvars import ContextVar

from mass.audit.summaries import summary_render
from mass.models import AuditEvent

#: The client address of the request being served, set by ``AuditContextMiddleware`` so that
#: services do not need the request to audit what they do.
current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)

Action = AuditEvent.Action


def phrase(code: str, **params) -> dict:
    """A part of a summary that is itself translated (a note added after the sentence, see
    ``summary_render``): a code marked with ``gettext_noop`` and its parameters."""
    return {"code": code, "params": params}


def audit_record(*, actor, action: str, patient=None, obj=None, summary: str = "",
                 params: dict | None = None, details: dict | None = None, username: str = "",
                 ip_address: str | None = None) -> AuditEvent:
    """``summary`` is a code (an English sentence marked with ``gettext_noop``) and
    ``params`` its parameters: JSON values, choices as their codes (see
    ``mass.audit.summaries.PARAM_LABELS``)."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if obj is not None and patient is None:
        patient = getattr(obj, "patient", None)
    code = summary
    if code:
        summary = summary_render(code, params or {}, language="en")
    return AuditEvent.objects.create(
        actor=actor,
        username=username or (actor.get_username() if actor else ""),
        action=action,
        ip_address=ip_address or current_ip.get(),
        patient=patient,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        summary_code=code,
        summary_params=(params or {}) if code else None,
        details=details or {},
    )


def audit_read(*, actor, obj, summary: str, params: dict | None = None,
               details: dict | None = None) -> AuditEvent:
    """A page that shows one patient's record (the file, an edit form filled in, a note, a
    merge preview) is a read of their file (patient-rights law), so that "who read this file"
    lists it. ``obj`` is the record shown (its patient is found from it, or it is the
    patient); the summary names the record, never its content."""
    patient = obj if obj._meta.label_lower == "patients.patient" else None
    return audit_record(actor=actor, action=Action.VIEW, patient=patient, obj=obj,
                        summary=summary, params=params, details=details)


def audit_list_read(*, actor, summary: str, patients, params: dict | None = None) -> AuditEvent:
    """A page that lists several patients (a dispensing list, a caseload, a partner's
    referrals) is a read of each listed file. It writes one row naming them all in
    ``details["patients"]`` (ids), not one row per patient: the page costs one INSERT however
    long the list, and "who read this file" finds the row by its details
    (``mass.selectors.audit_readers_of_patient``). ``patients`` holds ids or patients."""
    ids = sorted({getattr(patient, "pk", patient) for patient in patients})
    return audit_record(actor=actor, action=Action.VIEW, summary=summary, params=params,
                        details={"patients": ids})
