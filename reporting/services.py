"""Writes of the reporting app: TDI questionnaires, and the audit rows of every export and
of every explanation list read (they name patients)."""

import getpass
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mass.audit import Action, audit_record
from patients.models import Episode
from reporting import exports, selectors
from reporting.models import TdiRecord


def command_username() -> str:
    """Who ran a management command, for the audit trail (no staff account behind it)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in the environment (containers)
        return "cli"


def file_active_export(*, year: int, fmt: str, actor, username: str = ""
                       ) -> tuple[bytes, str, str]:
    """The yearly figures as a file (json, csv or xlsx), audited as an export.

    Returns (content, content type, file name).
    """
    if fmt not in exports.FORMATS:
        raise ValueError(fmt)
    if fmt == "xlsx":
        current, breakdowns = selectors.file_active_report(year)
        figures = current.figures
    else:
        figures, breakdowns = selectors.file_active_figures(year).figures, None
    content = exports.figures_file(fmt, figures, breakdowns)
    with transaction.atomic():
        # What was handed out, so that a signed or published figure can be checked later: the
        # file's SHA-256 (compare with ``sha256sum file-active-<year>.<fmt>``) and the figures
        # themselves (aggregates: no patient is named in them).
        audit_record(actor=actor, action=Action.EXPORT, username=username,
                     summary=f"file active {year} ({fmt})",
                     details={"year": year, "format": fmt, "bytes": len(content),
                              "sha256": hashlib.sha256(content).hexdigest(),
                              "figures": figures})
    return content, exports.FORMATS[fmt], f"file-active-{year}.{fmt}"


def patient_list_view_record(*, summary: str, details: dict, actor) -> None:
    """The explanation lists and the TDI list name patients: reading one is audited like
    reading a file."""
    audit_record(actor=actor, action=Action.VIEW, summary=summary, details=details)


def tdi_file_export(*, year: int, actor, username: str = "") -> tuple[bytes, str, int]:
    """The TDI file of ``year`` for Sciensano, audited as an export.

    Returns (content, file name, number of episodes).
    """
    rows = selectors.tdi_file_rows(year)
    content = exports.tdi_csv(rows)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.EXPORT, username=username,
                     summary=f"TDI file {year} ({len(rows)} episodes)",
                     details={"year": year, "episodes": len(rows),
                              "sha256": hashlib.sha256(content).hexdigest()})
    return content, f"tdi-{year}.csv", len(rows)


@transaction.atomic
def tdi_record_save(*, episode: Episode, data: dict, based_on_id: int | None,
                    correction_reason: str = "", actor) -> TdiRecord:
    """Fill in an episode's TDI questionnaire, or correct it (a new row superseding the
    current one, with a reason). ``based_on_id`` is the questionnaire the user saw (None: none
    yet): if someone saved another meanwhile, nothing is written and the user is asked to
    check again."""
    # Two people saving at once: the second waits here, then sees the first one's row.
    Episode.objects.select_for_update().filter(pk=episode.pk).first()
    current = selectors.tdi_current_record(episode=episode)
    if (current.pk if current else None) != based_on_id:
        raise ValidationError(
            _("Someone else saved this questionnaire meanwhile: check it and try again."),
            code="conflict")
    if current is not None and not correction_reason.strip():
        raise ValidationError(_("Give the reason for the correction."), code="reason")
    record = TdiRecord(episode=episode, supersedes=current,
                       correction_reason=correction_reason.strip() if current else "",
                       recorded_by=actor, **data)
    record.full_clean()
    record.save()
    audit_record(actor=actor, action=Action.UPDATE if current else Action.CREATE,
                 patient=episode.patient, obj=record,
                 summary=(f"TDI questionnaire of episode {episode.pk} corrected"
                          if current else f"TDI questionnaire of episode {episode.pk}"))
    return record


def tdi_view_record(*, episode: Episode, actor) -> None:
    """Reading a patient's questionnaire is reading their record."""
    audit_record(actor=actor, action=Action.VIEW, patient=episode.patient,
                 summary=f"TDI questionnaire of episode {episode.pk}")
