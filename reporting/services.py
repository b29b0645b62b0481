"""Writes of the reporting app: TDI questionnaires, and the audit rows of every export and
of every explanation list read (they name patients)."""

import getpass
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.audit import Action, audit_record
from patients.models import Episode
from reporting import exports, selectors, sql
from reporting.models import DeclaredYear, TdiRecord


def command_username() -> str:
    """Who ran a management command, for the audit trail (no staff account behind it)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in the environment (containers)
        return "cli"


def file_active_export(*, year: int, fmt: str, actor, username: str = "",
                       version: int | str | None = None) -> tuple[bytes, str, str]:
    """The yearly figures as a file (json, csv or xlsx), audited as an export.

    ``version``: None gives the latest declaration of a declared year (read from its
    snapshot) and today's records otherwise; ``"current"`` today's records; a number that
    declaration (``DeclaredYear.DoesNotExist`` if there is none). The file says which it holds
    (``declared_version``, ``declared_at``, ``sha256``; null for today's records).

    Returns (content, content type, file name).
    """
    from reporting import declaring
    if fmt not in exports.FORMATS:
        raise ValueError(fmt)
    declaration = selectors.declaration_for(year=year, version=version)
    if declaration is not None:
        figures = declaring.declared_figures(declaration)
        breakdowns = declaration.lists.get("breakdowns") if fmt == "xlsx" else None
    elif fmt == "xlsx":
        current, breakdowns = selectors.file_active_report(year)
        figures = current.figures
    else:
        figures, breakdowns = selectors.file_active_figures(year).figures, None
    figures = {**figures, **declaring.version_keys(declaration)}
    content = exports.figures_file(fmt, figures, breakdowns)
    with transaction.atomic():
        # What was handed out, so that a signed or published figure can be checked later: the
        # file's SHA-256 (compare with ``sha256sum file-active-<year>.<fmt>``) and the figures
        # themselves (aggregates: no patient is named in them).
        audit_record(actor=actor, action=Action.EXPORT, username=username,
                     summary=gettext_noop("file active %(year)s (%(format)s)"),
                     params={"year": year, "format": fmt},
                     details={"year": year, "format": fmt, "bytes": len(content),
                              "sha256": hashlib.sha256(content).hexdigest(),
                              "figures": figures})
    return content, exports.FORMATS[fmt], f"file-active-{year}.{fmt}"


def year_declare(*, year: int, reason: str, actor) -> DeclaredYear:
    """Declare a finished year: store a snapshot of its figures, the per-patient lists behind
    them, their SHA-256 and the consistency checks as they stand (warnings do not stop a
    declaration; they are kept with it). Declaring a year again is a new version and needs a
    reason; the earlier versions stay. A year without any record may be declared (all its
    figures are zero: that is what the centre reports for it).

    Refuses (``ValidationError``, nothing written) the current year and later ones, and a new
    version without a reason.
    """
    from django.utils import timezone

    from reporting import declaring
    reason = reason.strip()
    if year >= timezone.localdate().year:
        raise ValidationError(_("Only a finished year can be declared: %(year)s is not over.")
                              % {"year": year})
    with transaction.atomic():
        # Two coordinators declaring at once: the second waits, then takes the next version.
        sql.year_declare_lock(year=year)
        previous = (DeclaredYear.objects.filter(year=year).order_by("-version")
                    .values_list("version", flat=True).first())
        if previous and not reason:
            raise ValidationError(
                _("%(year)s was declared before (version %(version)s): give the reason for "
                  "declaring it again.") % {"year": year, "version": previous})
        current, breakdowns = selectors.file_active_report(year)
        figures = current.figures
        # The breakdowns (months, disciplines, people, sites) too: the spreadsheet of a
        # declared year gives them as declared.
        lists = {**declaring.snapshot_lists(year), "breakdowns": breakdowns}
        checks = [{"key": check["key"], "count": check["count"]}
                  for check in declaring.year_checks(year, figures)]
        declaration = DeclaredYear.objects.create(
            year=year, version=(previous or 0) + 1, figures=figures, lists=lists,
            checks=checks, sha256=declaring.snapshot_hash(figures, lists), reason=reason,
            declared_by=actor)
        # Aggregates and a hash only: the reason stays in the declaration, not in the trail's
        # summary, in case someone writes a patient's name into it.
        audit_record(actor=actor, action=Action.CREATE, obj=declaration,
                     summary=gettext_noop("file active %(year)s declared (version %(version)s)"),
                     params={"year": year, "version": declaration.version},
                     details={"year": year, "version": declaration.version,
                              "sha256": declaration.sha256,
                              "warnings": sum(1 for check in checks if check["count"])})
    return declaration


def patient_list_view_record(*, summary: str, details: dict, actor,
                             params: dict | None = None) -> None:
    """The explanation lists and the TDI list name patients: reading one is audited like
    reading a file."""
    audit_record(actor=actor, action=Action.VIEW, summary=summary, params=params,
                 details=details)


def tdi_file_export(*, year: int, actor, username: str = "") -> tuple[bytes, str, int]:
    """The TDI file of ``year`` for Sciensano, audited as an export.

    Returns (content, file name, number of episodes).
    """
    rows = selectors.tdi_file_rows(year)
    content = exports.tdi_csv(rows)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.EXPORT, username=username,
                     summary=gettext_noop("TDI file %(year)s (%(count)s episodes)"),
                     params={"year": year, "count": len(rows)},
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
                 summary=(gettext_noop("TDI questionnaire of episode %(episode)s corrected")
                          if current else gettext_noop("TDI questionnaire of episode %(episode)s")),
                 params={"episode": episode.pk})
    return record


def tdi_view_record(*, episode: Episode, actor) -> None:
    """Reading a patient's questionnaire is reading their record."""
    audit_record(actor=actor, action=Action.VIEW, patient=episode.patient, obj=episode,
                 summary=gettext_noop("TDI questionnaire of episode %(episode)s"),
                 params={"episode": episode.pk})
