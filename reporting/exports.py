"""The files the reporting app writes: the yearly figures (JSON, CSV, XLSX) and the TDI file.

The same functions serve the web page (``?format=``) and the management commands, so that both
give the same content.
"""

import csv
import datetime
import hashlib
import hmac
import io
import json
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from mass.spreadsheet import safe_cell, safe_row
from reporting import tdi_codes
from reporting.catalogue import FIGURES, INCOME_LABELS
from reporting.models import TdiRecord

FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def flat_figures(figures: dict) -> list[tuple[str, object]]:
    """(key, value) pairs, the income distribution as ``income_in_treatment.<source>``."""
    rows = []
    for key, value in figures.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{sub}", sub_value) for sub, sub_value in value.items()]
        else:
            rows.append((key, value))
    return rows


def figures_json(figures: dict) -> bytes:
    return (json.dumps(figures, indent=2, ensure_ascii=False) + "\n").encode()


def page_value(key: str, value):
    """A figure rounded as the page shows it (``reporting_tags.figure`` and ``percent``):
    averages to a whole number, percentages to one decimal. The CSV is read by people
    (opened in a spreadsheet, pasted into the activity report): 329.0833333333333 is
    329 there as on the page. The JSON keeps the exact value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    figure = FIGURES.get(key)
    if key.startswith("income_in_treatment."):
        return round(value, 1)
    if (figure is not None and figure.average) or isinstance(value, float):
        return round(value)
    return value


def figures_csv(figures: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for key, value in flat_figures(figures):
        writer.writerow(safe_row([key, "" if value is None else page_value(key, value)]))
    return buffer.getvalue().encode()


def _label(key: str) -> str:
    if key.startswith("income_in_treatment."):
        source = key.split(".", 1)[1]
        return f"{FIGURES['income_in_treatment'].label}: {INCOME_LABELS[source]}"
    if key.startswith("income_in_treatment_counts."):
        source = key.split(".", 1)[1]
        return (f"{FIGURES['income_in_treatment'].label} ({_('patients')}): "
                f"{INCOME_LABELS[source]}")
    figure = FIGURES.get(key)
    return str(figure.label) if figure else key


def breakdown_rows(breakdowns: dict) -> list[list]:
    """The breakdowns as rows of (breakdown, group, label, patients, contacts, consultations)."""
    from django.utils.dates import MONTHS

    from reporting.labels import discipline_label, sex_label, site_label
    rows = []
    for month in breakdowns["monthly"]:
        rows.append(["month", month["month"], str(MONTHS[month["month"]]), month["patients"],
                     None, month["consultations"]])
    for row in breakdowns["disciplines"]:
        rows.append(["discipline", row["discipline"], discipline_label(row["discipline"]),
                     row["patients"], None, row["consultations"]])
    for sex, patients in breakdowns["people"]["sex"].items():
        rows.append(["sex", sex, sex_label(sex), patients, None, None])
    for group, patients in breakdowns["people"]["age"].items():
        rows.append(["age_group", group, group if group != "unknown" else _("Unknown"),
                     patients, None, None])
    for row in breakdowns["sites"]:
        group = row["site_id"] or ("several" if row.get("several_sites") else "")
        rows.append(["site", group, site_label(row), row["patients"], row["contacts"], None])
    return rows


def figures_xlsx(figures: dict, breakdowns: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Figures")[:31]
    sheet.append(["figure", "label", "value"])
    for key, value in flat_figures(figures):
        sheet.append(safe_row([key, _label(key), value]))
    detail = workbook.create_sheet(_("Breakdowns")[:31])
    detail.append(["breakdown", "group", "label", "patients", "contacts", "consultations"])
    for row in breakdown_rows(breakdowns):
        detail.append(safe_row(row))
    for ws in (sheet, detail):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["B"].width = 40
        ws.column_dimensions["C"].width = 40
    # A fixed date: the same figures give the same file, whoever exports them and when.
    stamp = datetime.datetime(figures["year"] + 1, 1, 1)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def figures_file(fmt: str, figures: dict, breakdowns: dict | None = None) -> bytes:
    if fmt == "json":
        return figures_json(figures)
    if fmt == "csv":
        return figures_csv(figures)
    if fmt == "xlsx":
        return figures_xlsx(figures, breakdowns)
    raise ValueError(fmt)


# --- TDI ------------------------------------------------------------------------------------

#: The columns of the TDI file, in order (documented in docs/features.md, "TDI file").
TDI_COLUMNS = [
    "centre_id", "centre_type", "treatment_year", "treatment_month", "client_id",
    "episode_id", "questionnaire", "sex", "birth_year", "age_at_entry",
    *TdiRecord.ITEMS,
]


def tdi_setting(name: str, default: str) -> str:
    """A TDI setting: from the Django settings, else the environment (``.env``)."""
    return str(getattr(settings, name, "") or os.environ.get(name, "") or default)


def pseudonym_key() -> bytes:
    """The secret of the pseudonymised client identifier (``TDI_PSEUDONYM_KEY``).

    It must stay the same from year to year (Sciensano links a person's episodes across years
    through it) and must never be sent with the file. The demo has a fixed one.
    """
    key = tdi_setting("TDI_PSEUDONYM_KEY", "")
    if not key:
        if settings.DEBUG or getattr(settings, "DEMO", False):
            return b"demo-tdi-pseudonym-key-not-for-production"
        raise ImproperlyConfigured(
            "TDI_PSEUDONYM_KEY is not set: the TDI file needs a secret to pseudonymise "
            "the file numbers (see docs/features.md, TDI file).")
    return key.encode()


def pseudonym(file_number: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the file number, hex, 32 characters: the same file gets the same
    identifier every year. After a merge, the person's later episodes carry the kept file's
    identifier (files sent earlier keep the one they had)."""
    digest = hmac.new(key or pseudonym_key(), file_number.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def tdi_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TDI_COLUMNS, delimiter=";",
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: safe_cell(value) for column, value in row.items()}
                     for row in rows)
    return buffer.getvalue().encode()


def tdi_row(*, episode, record, key: bytes, centre_id: str, centre_type: int) -> dict:
    """One row of the TDI file: an episode and its current questionnaire (or None: every
    item "not known", ``questionnaire`` 0)."""
    patient = episode.patient
    birth_year = patient.birth_year or (patient.birth_date.year if patient.birth_date else None)
    row = {
        "centre_id": centre_id,
        "centre_type": centre_type,
        "treatment_year": episode.opened_on.year,
        "treatment_month": episode.opened_on.month,
        "client_id": pseudonym(patient.file_number, key),
        "episode_id": pseudonym(f"episode:{episode.pk}", key)[:16],
        "questionnaire": 1 if record else 0,
        "sex": tdi_codes.SEX_CODES.get(patient.sex, tdi_codes.NOT_KNOWN),
        "birth_year": birth_year or "",
        "age_at_entry": (episode.opened_on.year - birth_year) if birth_year
        else tdi_codes.NOT_KNOWN,
    }
    for item in TdiRecord.ITEMS:
        value = getattr(record, item) if record else None
        if value is None:
            value = "" if item.startswith("secondary_drug") else tdi_codes.NOT_KNOWN
        row[item] = value
    return row


#: What each column of the TDI file holds (the table of docs/features.md comes from here:
#: ``manage.py tdi_export --describe``).
TDI_COLUMN_HELP = {
    "centre_id": "the centre's TDI code (setting TDI_CENTRE_ID)",
    "centre_type": "TDI treatment centre type (setting TDI_CENTRE_TYPE, default 3: "
                   "low-threshold agency)",
    "treatment_year": "year the episode opened",
    "treatment_month": "month the episode opened (1-12)",
    "client_id": "pseudonymised person: HMAC-SHA256 of the file number with "
                 "TDI_PSEUDONYM_KEY, 32 hex characters; the same every year",
    "episode_id": "pseudonymised episode (HMAC of the episode number), 16 hex characters",
    "questionnaire": "1 questionnaire filled in, 0 missing (every coded item then 99, the "
                     "secondary drugs empty)",
    "sex": "1 male, 2 female, 3 other, 99 not known (from the patient file)",
    "birth_year": "year of birth, empty if not known (from the patient file)",
    "age_at_entry": "treatment year minus birth year, 99 if not known",
    "age_first_use": "age at first use of the primary drug, 99 if not known",
    "secondary_drug_1": "drug code (as primary_drug), empty: none",
}


def tdi_format_description() -> str:
    """The TDI file format as Markdown: columns, then the codes of each coded item."""
    from django.utils import translation

    from reporting import tdi_codes as codes
    choices = {
        "ever_treated": codes.EverTreated, "ost_ever": codes.OstEver,
        "referral_source": codes.ReferralSource, "living_with": codes.LivingWith,
        "accommodation": codes.Accommodation, "labour_status": codes.LabourStatus,
        "education": codes.Education, "primary_drug": codes.Drug, "route": codes.Route,
        "frequency": codes.Frequency,
        **{name: codes.YesNo for name in ("injected_ever", "injected_12m", "injected_30d",
                                          "needle_shared_ever", "needle_shared_12m",
                                          "needle_shared_30d")},
    }
    with translation.override("en"):
        lines = ["| column | content |", "|---|---|"]
        for column in TDI_COLUMNS:
            if column in TDI_COLUMN_HELP:
                text = TDI_COLUMN_HELP[column]
            elif column.startswith("secondary_drug"):
                text = TDI_COLUMN_HELP["secondary_drug_1"]
            else:
                field = TdiRecord._meta.get_field(column)
                text = f"{field.verbose_name}: codes below"
            lines.append(f"| `{column}` | {text} |")
        lines.append("")
        seen = set()
        for enum in choices.values():
            if enum in seen:
                continue
            seen.add(enum)
            users = [name for name, e in choices.items() if e is enum]
            codes_text = "; ".join(f"{value} {label}" for value, label in enum.choices)
            lines.append(f"- `{'`, `'.join(users)}`: {codes_text}")
    return "\n".join(lines) + "\n"
