"""The audit trail: one call, ``audit_record``, used by every service and view that reads a
patient file or changes anything. It runs in the caller's transaction, so a change and its
audit row are committed together or not at all."""

from contextvars import ContextVar

from mass.models import AuditEvent

#: The client address of the request being served, set by ``AuditContextMiddleware`` so that
#: services do not need the request to audit what they do.
current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)

Action = AuditEvent.Action


def audit_record(*, actor, action: str, patient=None, obj=None, summary: str = "",
                 details: dict | None = None, username: str = "",
                 ip_address: str | None = None) -> AuditEvent:
    if actor is not None and not actor.is_authenticated:
        actor = None
    if obj is not None and patient is None:
        patient = getattr(obj, "patient", None)
    return AuditEvent.objects.create(
        actor=actor,
        username=username or (actor.get_username() if actor else ""),
        action=action,
        ip_address=ip_address or current_ip.get(),
        patient=patient,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        details=details or {},
    )


def audit_read(*, actor, obj, summary: str, details: dict | None = None) -> AuditEvent:
    """A page that shows one patient's record (the file, an edit form filled in, a note, a
    merge preview) is a read of their file (patient-rights law), so that "who read this file"
    lists it. ``obj`` is the record shown (its patient is found from it, or it is the
    patient); the summary names the record, never its content."""
    patient = obj if obj._meta.label_lower == "patients.patient" else None
    return audit_record(actor=actor, action=Action.VIEW, patient=patient, obj=obj,
                        summary=summary, details=details)


def audit_list_read(*, actor, summary: str, patients) -> AuditEvent:
    """A page that lists several patients (a dispensing list, a caseload, a partner's
    referrals) is a read of each listed file. It writes one row naming them all in
    ``details["patients"]`` (ids), not one row per patient: the page costs one INSERT however
    long the list, and "who read this file" finds the row by its details
    (``mass.selectors.audit_readers_of_patient``). ``patients`` holds ids or patients."""
    ids = sorted({getattr(patient, "pk", patient) for patient in patients})
    return audit_record(actor=actor, action=Action.VIEW, summary=summary,
                        details={"patients": ids})
