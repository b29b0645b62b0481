"""History import (``manage.py import_records DIR``), format in docs/interfaces.md.

How it stays fast with millions of rows: each CSV file is streamed as it is into a temporary
table of text columns with PostgreSQL COPY (psycopg 3); every check is then one set-based
query per file (one scan, errors collected per line and column), and the rows go into the
real tables with one INSERT ... SELECT per file. Python never touches a row.

All or nothing: everything runs in one transaction; any error rolls it back, and every error
names its file, line and column. A dry run does the whole import and rolls it back, so a
dry run that passes is an import that will pass.

Line numbers count the header as line 1 (a quoted value spanning several lines counts as
one line).
"""

import csv
import datetime
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import GeneratedField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.audit import Action, audit_record
from patients.models import Episode, Patient, Visit

ERRORS_PER_FILE = 200
OLDEST = datetime.date(1900, 1, 1)
MARKUP = r"<\s*[a-zA-Z/!?]"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, date, birth_date, time, code, file_number, ref, site, author
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    markup: bool = False  # may the text hold HTML-looking content (notes)?


@dataclass(frozen=True)
class Spec:
    file: str
    columns: tuple[Column, ...]
    model_label: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def table(self) -> str:
        return "import_" + self.file.removesuffix(".csv")


def _choices(model_label: str, field_name: str) -> tuple[str, ...]:
    model = apps.get_model(model_label)
    return tuple(value for value, _label in model._meta.get_field(field_name).choices)


def specs() -> list[Spec]:
    """The files of docs/interfaces.md, in the order they are loaded (a patient before their
    records)."""
    return [
        Spec("patients.csv", (
            Column("file_number", "file_number", True, 20),
            Column("alias", "text", True, 100),
            Column("last_name", "text", False, 100),
            Column("first_name", "text", False, 100),
            Column("birth_date", "birth_date"),
            Column("sex", "code", choices=tuple(Patient.Sex.values)),
            Column("language", "code", choices=tuple(Patient.Language.values)),
        ), "patients.patient"),
        Spec("episodes.csv", (
            Column("file_number", "ref", True),
            Column("opened_on", "date", True),
            Column("kind", "code", True, choices=tuple(Episode.Kind.values)),
            Column("closed_on", "date"),
            Column("closure_reason", "code", choices=tuple(Episode.ClosureReason.values)),
        ), "patients.episode"),
        Spec("visits.csv", (
            Column("file_number", "ref", True),
            Column("date", "date", True),
            Column("time", "time"),
            Column("site", "site"),
        ), "patients.visit"),
        Spec("consultations.csv", (
            Column("file_number", "ref", True),
            Column("date", "date", True),
            Column("discipline", "code", True,
                   choices=_choices("consultations.Consultation", "discipline")),
            Column("time", "time"),
            Column("author", "author", False, 150),
            Column("note", "text", False, 20000, markup=True),
        ), "consultations.consultation"),
        Spec("income.csv", (
            Column("file_number", "ref", True),
            Column("date", "date", True),
            Column("source", "code", True, choices=_choices("social.IncomeRecord", "source")),
        ), "social.incomerecord"),
    ]


@dataclass
class ImportError_:
    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        return _("%(file)s, line %(line)s, column %(column)s: %(message)s") % {
            "file": self.file, "line": self.line, "column": self.column or "-",
            "message": self.message}


FILE_ORDER = ["patients.csv", "episodes.csv", "visits.csv", "consultations.csv", "income.csv"]


def _error_order(error: ImportError_):
    index = FILE_ORDER.index(error.file) if error.file in FILE_ORDER else len(FILE_ORDER)
    return (index, error.file, error.line, error.column)


class ImportFailed(Exception):
    def __init__(self, errors: list[ImportError_]):
        self.errors = sorted(errors, key=_error_order)
        super().__init__(f"{len(errors)} error(s)")


@dataclass
class ImportResult:
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    timings: dict[str, float] = field(default_factory=dict)


class _DryRunRollback(Exception):
    pass


# --- SQL pieces -----------------------------------------------------------------------------

def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def value(column: str) -> str:
    """The typed value of a staging column: trimmed, empty meaning absent."""
    return f"nullif(btrim(s.{_q(column)}), '')"


def parse_date(v: str) -> str:
    """A YYYY-MM-DD text as a date, NULL when it is no real date. Never raises: every cast
    is guarded by the CASE branches before it (CASE evaluates in order)."""
    y, m, d = f"substr({v}, 1, 4)::int", f"substr({v}, 6, 2)::int", f"substr({v}, 9, 2)::int"
    return (f"(CASE WHEN {v} !~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' THEN NULL "
            f"WHEN {m} NOT BETWEEN 1 AND 12 OR {y} < 1 THEN NULL "
            f"WHEN {d} NOT BETWEEN 1 AND extract(day FROM make_date({y}, {m}, 1) "
            f"+ interval '1 month' - interval '1 day')::int THEN NULL "
            f"ELSE make_date({y}, {m}, {d}) END)")


def parse_time(v: str) -> str:
    h, m = f"split_part({v}, ':', 1)::int", f"split_part({v}, ':', 2)::int"
    return (f"(CASE WHEN {v} !~ '^[0-9]{{1,2}}:[0-9]{{2}}$' THEN NULL "
            f"WHEN {h} > 23 OR {m} > 59 THEN NULL ELSE make_time({h}, {m}, 0) END)")


def is_year(v: str) -> str:
    return f"({v} ~ '^[0-9]{{4}}$')"


def birth_date_value(v: str) -> str:
    return f"(CASE WHEN {is_year(v)} THEN NULL ELSE {parse_date(v)} END)"


def birth_year_value(v: str) -> str:
    return (f"(CASE WHEN {is_year(v)} THEN {v}::int "
            f"ELSE extract(year FROM {parse_date(v)})::int END)")


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def typed_name(column: str) -> str:
    return f"typed_{column}"


def typed_joins(spec: Spec) -> tuple[list[str], dict[str, str]]:
    """Dates and times are parsed once per distinct value (a decade of walk-ins holds a few
    thousand dates for a million rows), in the lookups import_dates and import_times; each
    staged row joins them. Returns the joins and, per column, the typed SQL value."""
    joins, typed = [], {}
    for column in spec.columns:
        if column.kind in ("date", "time"):
            table, alias = ("import_dates", f"d_{column.name}") if column.kind == "date" \
                else ("import_times", f"t_{column.name}")
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.v = {value(column.name)}")
            typed[column.name] = f"{alias}.typed"
    return joins, typed


def column_checks(column: Column, today: datetime.date) -> list[tuple[str, str]]:
    """(condition true when the value is bad, error code) for one column. Conditions on a
    value assume the value is present; CASE order guarantees it."""
    v = value(column.name)
    checks = []
    if column.required:
        checks.append((f"{v} IS NULL", "required"))
    present = f"{v} IS NOT NULL AND "
    if column.max_length:
        checks.append((present + f"length({v}) > {column.max_length}",
                       f"too_long:{column.max_length}"))
    if column.kind in ("text", "file_number", "author") and not column.markup:
        checks.append((present + f"{v} ~ '{MARKUP}'", "markup"))
    if column.kind == "date":
        # typed(): the date of this value from the lookup of distinct values
        date = typed_name(column.name)
        checks.append((present + f"{date} IS NULL", "invalid_date"))
        checks.append((f"{date} > DATE '{today.isoformat()}'", "future"))
        checks.append((f"{date} < DATE '{OLDEST.isoformat()}'", "too_old"))
    elif column.kind == "birth_date":
        checks.append((present + f"NOT {is_year(v)} AND {parse_date(v)} IS NULL",
                       "invalid_birth_date"))
        checks.append((present + f"{birth_year_value(v)} > {today.year}", "future"))
        checks.append((present + f"{birth_date_value(v)} > DATE '{today.isoformat()}'",
                       "future"))
        checks.append((present + f"{birth_year_value(v)} < {OLDEST.year}", "too_old"))
    elif column.kind == "time":
        checks.append((present + f"{typed_name(column.name)} IS NULL", "invalid_time"))
    elif column.kind == "code":
        checks.append((present + f"{v} NOT IN ({_sql_list(column.choices)})",
                       "unknown_code:" + ", ".join(column.choices)))
    elif column.kind == "ref":
        checks.append((present + "known IS NULL", "unknown_file_number"))
    elif column.kind == "site":
        checks.append((present + "site_id IS NULL", "unknown_site"))
    return checks


def error_message(code: str) -> str:
    code, _sep, argument = code.partition(":")
    messages = {
        "required": _("a value is required"),
        "too_long": _("longer than %(n)s characters") % {"n": argument},
        "markup": _("must not contain HTML tags"),
        "invalid_date": _("not a valid date (YYYY-MM-DD)"),
        "invalid_birth_date": _("not a valid birth date (YYYY-MM-DD or YYYY)"),
        "future": _("in the future"),
        "too_old": _("before 1900"),
        "invalid_time": _("not a valid time (HH:MM)"),
        "unknown_code": _("unknown code; expected one of: %(codes)s") % {"codes": argument},
        "unknown_file_number": _("no patient has this file number (in patients.csv or "
                                 "already registered)"),
        "unknown_site": _("no site has this name"),
        "duplicate_in_file": _("this file number is already on line %(line)s")
        % {"line": argument},
        "exists": _("a file with this file number already exists"),
        "closed_without_reason": _("a closed episode needs a closure reason"),
        "reason_without_close": _("a closure reason needs a closing date (closed_on)"),
        "closes_before_opening": _("the episode closes before it opens"),
        "second_open_episode": _("this person already has an open episode (line %(line)s)")
        % {"line": argument},
        "open_episode_exists": _("this person already has an open episode in the database"),
        "overlapping_episode": _("this episode overlaps the one on line %(line)s (an episode "
                                 "opens only once the previous one is closed)")
        % {"line": argument},
        "overlapping_episode_in_db": _("this episode overlaps an episode of this person "
                                       "already in the database"),
    }
    return messages.get(code, code)


# --- the import -----------------------------------------------------------------------------

class Importer:
    def __init__(self, directory: Path, *, today: datetime.date | None = None):
        self.directory = Path(directory)
        self.today = today or timezone.localdate()
        self.errors: list[ImportError_] = []
        self.specs = {spec.file: spec for spec in specs()}
        self.present: dict[str, Spec] = {}
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}  # seconds per step, for the benchmark

    def error(self, file, line, column, message):
        self.errors.append(ImportError_(file, line, column, message))

    def run(self, *, dry_run: bool = False) -> ImportResult:
        if not self.directory.is_dir():
            self.error(str(self.directory), 0, "", _("not a directory"))
            raise ImportFailed(self.errors)
        for path in sorted(self.directory.glob("*.csv")):
            if path.name not in self.specs:
                self.error(path.name, 0, "", _("unknown file; expected one of: %(files)s")
                           % {"files": ", ".join(self.specs)})
        try:
            with transaction.atomic():
                clock = time.perf_counter()
                self._stage_all()
                self.timings["stage (COPY into temporary tables)"] = time.perf_counter() - clock
                # A broken patients.csv would make every reference to it look wrong too.
                patients_failed = ((self.directory / "patients.csv").exists()
                                   and "patients.csv" not in self.present)
                clock = time.perf_counter()
                if not patients_failed:
                    self._validate_all()
                self.timings["validate"] = time.perf_counter() - clock
                if self.errors:
                    raise ImportFailed(self.errors)
                clock = time.perf_counter()
                self._insert_all()
                self.timings["insert"] = time.perf_counter() - clock
                if dry_run:
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
        return ImportResult(counts=self.counts, dry_run=dry_run, timings=self.timings)

    # staging

    def _stage_all(self):
        with connection.cursor() as cursor:
            for spec in self.specs.values():
                path = self.directory / spec.file
                if path.exists():
                    self._stage(cursor, spec, path)

    def _stage(self, cursor, spec: Spec, path: Path):
        try:
            handle = path.open("rb")
        except OSError as exc:  # a folder named like the file, no permission...
            self.error(spec.file, 0, "", _("cannot be read: %(reason)s")
                       % {"reason": exc.strerror or exc})
            return
        with handle:
            header = self._read_header(spec, handle)
            if header is None or not self._header_ok(spec, header):
                return
            if self._copy_to_staging(cursor, spec, header, handle):
                self.present[spec.file] = spec

    def _read_header(self, spec: Spec, handle) -> list[str] | None:
        """The column names of the file's first line, or None with the error recorded."""
        first = handle.readline()
        try:
            header_text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.error(spec.file, 1, "", _("not UTF-8 text"))
            return None
        if "\r" in header_text.rstrip("\r\n"):
            # Lines ended by a carriage return alone (classic Mac OS, some exports): the
            # whole file reads as one line.
            self.error(spec.file, 1, "", _("lines end with a carriage return only: save "
                                           "the file with Windows or Unix line ends"))
            return None
        try:
            header = next(csv.reader(io.StringIO(header_text)), [])
        except csv.Error as exc:
            self.error(spec.file, 1, "", _("unreadable CSV: %(reason)s") % {"reason": exc})
            return None
        header = [name.strip() for name in header]
        if not header or header == [""]:
            self.error(spec.file, 1, "", _("the header row is missing"))
            return None
        return header

    def _header_ok(self, spec: Spec, header: list[str]) -> bool:
        """Every column known and given once, every required one there; each fault is
        recorded (all of them, not only the first)."""
        ok = True
        for name in header:
            if name not in spec.names:
                self.error(spec.file, 1, name, _("unknown column; expected: %(columns)s")
                           % {"columns": ", ".join(spec.names)})
                ok = False
            elif header.count(name) > 1:
                self.error(spec.file, 1, name, _("column given twice"))
                ok = False
        for column in spec.columns:
            if column.required and column.name not in header:
                self.error(spec.file, 1, column.name, _("required column missing"))
                ok = False
        return ok

    def _copy_to_staging(self, cursor, spec: Spec, header: list[str], handle) -> bool:
        """The rest of the file copied into its temporary table, every value as text, each
        row numbered by its line; False with the error recorded if the CSV is broken."""
        columns = ", ".join(f"{_q(c)} text" for c in spec.names)
        cursor.execute(f"DROP TABLE IF EXISTS {spec.table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {spec.table} ("
                       f"line bigint GENERATED ALWAYS AS IDENTITY (START 2), {columns}"
                       f") ON COMMIT DROP")
        copy_sql = (f"COPY {spec.table} ({', '.join(_q(c) for c in header)}) "
                    f"FROM STDIN WITH (FORMAT csv)")
        try:
            with transaction.atomic(), cursor.copy(copy_sql) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        except Exception as exc:  # psycopg's DataError & co: the CSV itself is broken
            self._copy_error(spec, exc)
            return False
        cursor.execute(f"ANALYZE {spec.table}")
        return True

    def _copy_error(self, spec: Spec, exc: Exception):
        diag = getattr(getattr(exc, "__cause__", None) or exc, "diag", None)
        context = (getattr(diag, "context", None) or "") if diag else ""
        primary = (getattr(diag, "message_primary", None) or str(exc)).strip()
        match = re.search(r"line (\d+)(?:, column (\w+))?", context)
        line = int(match.group(1)) + 1 if match else 0
        column = match.group(2) or "" if match else ""
        self.error(spec.file, line, column, _("unreadable CSV: %(reason)s")
                   % {"reason": primary})

    # validation

    def _validate_all(self):
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS import_known, import_sites, import_dates, "
                           "import_times")
            cursor.execute(
                "CREATE TEMPORARY TABLE import_known (file_number text PRIMARY KEY, "
                "patient_id bigint) ON COMMIT DROP")
            cursor.execute(
                "INSERT INTO import_known SELECT upper(file_number), "
                "coalesce(merged_into_id, id) FROM patients_patient ON CONFLICT DO NOTHING")
            if "patients.csv" in self.present:
                cursor.execute(
                    f"INSERT INTO import_known SELECT DISTINCT upper({value('file_number')}), "
                    f"NULL::bigint FROM import_patients s "
                    f"WHERE {value('file_number')} IS NOT NULL ON CONFLICT DO NOTHING")
            cursor.execute("ANALYZE import_known")
            self._build_lookups(cursor)
            cursor.execute(
                "CREATE TEMPORARY TABLE import_sites ON COMMIT DROP AS "
                "SELECT DISTINCT ON (lower(name)) lower(name) AS name, id FROM mass_site "
                "ORDER BY lower(name), id")
            for spec in self.present.values():
                clock = time.perf_counter()
                self._validate(cursor, spec)
                self.timings[f"validate {spec.file}"] = time.perf_counter() - clock

    def _build_lookups(self, cursor):
        for kind, table, parse in (("date", "import_dates", parse_date),
                                   ("time", "import_times", parse_time)):
            sources = [f"SELECT DISTINCT {value(column.name)} AS v FROM {spec.table} s"
                       for spec in self.present.values() for column in spec.columns
                       if column.kind == kind]
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (v text PRIMARY KEY, typed "
                           f"{kind}) ON COMMIT DROP")
            if sources:
                cursor.execute(
                    f"INSERT INTO {table} SELECT s.v, {parse('s.v')} FROM "
                    f"({' UNION '.join(sources)}) s WHERE s.v IS NOT NULL")
            cursor.execute(f"ANALYZE {table}")

    def _validate(self, cursor, spec: Spec):
        """One query per file: the staged rows with what the checks need joined to them,
        and for each line the list of "column|error" it fails."""
        items = [(column.name, condition, code) for column in spec.columns
                 for condition, code in column_checks(column, self.today)]
        fn = value("file_number")
        selected, joins = [], []
        if spec.file == "patients.csv":
            selected += [f"count(*) OVER (PARTITION BY upper({fn})) AS dups",
                         f"min(s.line) OVER (PARTITION BY upper({fn})) AS first_line",
                         "p.id IS NOT NULL AS in_db"]
            joins.append(f"LEFT JOIN patients_patient p ON upper(p.file_number) = upper({fn})")
            items += [("file_number", f"{fn} IS NOT NULL AND dups > 1 AND line > first_line",
                       "'duplicate_in_file:' || first_line"),
                      ("file_number", "in_db", "exists")]
        else:
            selected.append("k.file_number AS known")
            joins.append(f"LEFT JOIN import_known k ON k.file_number = upper({fn})")
        if "site" in spec.names:
            selected.append("site.id AS site_id")
            joins.append(f"LEFT JOIN import_sites site ON site.name = lower({value('site')})")
        lookup_joins, typed = typed_joins(spec)
        joins += lookup_joins
        selected += [f"{sql} AS {typed_name(name)}" for name, sql in typed.items()]
        if spec.file == "episodes.csv":
            opened, closed = typed_name("opened_on"), typed_name("closed_on")
            reason = value("closure_reason")
            is_open = f"{value('closed_on')} IS NULL"
            selected += [
                f"sum(CASE WHEN {is_open} THEN 1 ELSE 0 END) OVER (PARTITION BY upper({fn}) "
                f"ORDER BY s.line ROWS UNBOUNDED PRECEDING) AS open_rank",
                f"min(CASE WHEN {is_open} THEN s.line END) OVER (PARTITION BY upper({fn})) "
                f"AS first_open",
                "db_open.patient_id IS NOT NULL AS open_in_db",
                # Episodes of one person follow each other (the app opens one only when the
                # last is closed): the previous one, by opening date, must close on or before
                # this one opens; and none closed in the database may overlap it.
                f"lag(coalesce({typed['closed_on']}, 'infinity'::date)) OVER (PARTITION BY "
                f"upper({fn}) ORDER BY {typed['opened_on']}, s.line) AS previous_end",
                f"lag(s.line) OVER (PARTITION BY upper({fn}) ORDER BY {typed['opened_on']}, "
                f"s.line) AS previous_line",
                f"EXISTS (SELECT 1 FROM patients_episode e WHERE e.patient_id = k.patient_id "
                f"AND e.closed_on IS NOT NULL AND e.closed_on > {typed['opened_on']} "
                f"AND e.opened_on < coalesce({typed['closed_on']}, 'infinity'::date)) "
                f"AS overlaps_in_db"]
            joins.append("LEFT JOIN (SELECT DISTINCT patient_id FROM patients_episode "
                         "WHERE closed_on IS NULL) db_open ON db_open.patient_id = k.patient_id")
            items += [
                ("closure_reason", f"{value('closed_on')} IS NOT NULL AND {reason} IS NULL",
                 "closed_without_reason"),
                ("closed_on", f"{value('closed_on')} IS NULL AND {reason} IS NOT NULL",
                 "reason_without_close"),
                ("closed_on", f"{closed} < {opened}", "closes_before_opening"),
                ("closed_on", f"{is_open} AND open_rank > 1",
                 "'second_open_episode:' || first_open"),
                ("closed_on", f"{is_open} AND open_rank = 1 AND open_in_db",
                 "open_episode_exists"),
                ("opened_on", f"previous_end > {opened}",
                 "'overlapping_episode:' || previous_line"),
                ("opened_on", "overlaps_in_db", "overlapping_episode_in_db"),
            ]
        branches = []
        for column, condition, code in items:
            code_sql = code if code.startswith("'") else "'" + code.replace("'", "''") + "'"
            branches.append(f"CASE WHEN {condition} THEN '{column}|' || {code_sql} END")
        # The joins and window functions are computed first; the checks then read one row.
        staged = (f"SELECT s.*, {', '.join(selected)} FROM {spec.table} s {' '.join(joins)}")
        # Valid rows (nearly all) only evaluate the conditions; the list of errors is built
        # for the bad ones.
        any_bad = " OR ".join(f"({condition})" for _column, condition, _code in items)
        sql = (f"SELECT s.line, array_remove(ARRAY[{', '.join(branches)}], NULL) "
               f"FROM ({staged}) s WHERE {any_bad} "
               f"ORDER BY s.line LIMIT {ERRORS_PER_FILE + 1}")
        cursor.execute(sql)
        rows = cursor.fetchall()
        for line, errors in rows[:ERRORS_PER_FILE]:
            for item in errors:
                column, _sep, code = item.partition("|")
                self.error(spec.file, line, column, error_message(code))
        if len(rows) > ERRORS_PER_FILE:
            self.error(spec.file, rows[-1][0], "",
                       _("more errors in this file; only the first lines with errors are "
                         "listed"))

    # loading

    def _insert_all(self):
        with connection.cursor() as cursor:
            if "patients.csv" in self.present:
                self.counts["patients.csv"] = self._insert_patients(cursor)
                cursor.execute("TRUNCATE import_known")
                cursor.execute("INSERT INTO import_known SELECT upper(file_number), "
                               "coalesce(merged_into_id, id) FROM patients_patient "
                               "ON CONFLICT DO NOTHING")
                cursor.execute("ANALYZE import_known")
                self._advance_file_number_sequence(cursor)
            for spec in self.present.values():
                if spec.file != "patients.csv":
                    clock = time.perf_counter()
                    self.counts[spec.file] = getattr(self, "_insert_" + spec.table[7:])(cursor)
                    self.timings[f"insert {spec.file}"] = time.perf_counter() - clock
            # Fresh statistics, so the search and the board plan well right after a load.
            tables = {"patients.csv": "patients_patient", "episodes.csv": "patients_episode",
                      "visits.csv": "patients_visit"}
            for file in self.counts:
                if file in tables:
                    cursor.execute(f"ANALYZE {tables[file]}")
        total = sum(self.counts.values())
        audit_record(actor=None, action=Action.CREATE, username="import_records",
                     summary=gettext_noop("import_records: %(total)s rows"),
                     params={"total": total},
                     details={"counts": self.counts, "directory": str(self.directory)})

    def _insert(self, cursor, model, mapping: dict[str, str], source: str) -> int:
        """INSERT INTO the model's table the columns of ``mapping`` (column -> SQL) from
        ``source``; every other column gets its model default, so fields added later by the
        app that owns the model need no change here."""
        columns, expressions, params = [], [], []
        for model_field in model._meta.concrete_fields:
            column = model_field.column
            if column in mapping:
                columns.append(column)
                expressions.append(mapping[column])
            elif model_field.primary_key or isinstance(model_field, GeneratedField):
                continue
            elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add",
                                                                     False):
                columns.append(column)
                expressions.append("now()")
            elif model_field.has_default():
                columns.append(column)
                expressions.append("%s")
                params.append(model_field.get_db_prep_save(model_field.get_default(),
                                                           connection))
            elif model_field.null:
                continue
            elif model_field.empty_strings_allowed and model_field.blank:
                columns.append(column)
                expressions.append("''")
            else:
                raise ImproperlyConfigured(
                    f"import_records has no value for {model._meta.label}.{model_field.name}")
        sql = (f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(c) for c in columns)}) "
               f"SELECT {', '.join(expressions)} FROM {source}")
        cursor.execute(sql, params)
        return cursor.rowcount

    def _insert_patients(self, cursor) -> int:
        birth = value("birth_date")
        return self._insert(cursor, Patient, {
            "file_number": f"upper({value('file_number')})",
            "alias": value("alias"),
            "last_name": f"coalesce({value('last_name')}, '')",
            "first_name": f"coalesce({value('first_name')}, '')",
            "birth_date": birth_date_value(birth),
            "birth_year": birth_year_value(birth),
            "sex": f"coalesce({value('sex')}, 'U')",
            "language": f"coalesce({value('language')}, '')",
        }, "import_patients s ORDER BY s.line")

    def _source(self, spec_file: str, *extra_joins: str) -> tuple[str, dict[str, str]]:
        """FROM clause of a file's staged rows with their patient and typed values."""
        spec = self.specs[spec_file]
        joins, typed = typed_joins(spec)
        joins = [f"JOIN import_known k ON k.file_number = upper({value('file_number')})",
                 *joins, *extra_joins]
        return f"{spec.table} s {' '.join(joins)}", typed

    def _insert_episodes(self, cursor) -> int:
        source, typed = self._source("episodes.csv")
        return self._insert(cursor, Episode, {
            "patient_id": "k.patient_id",
            "opened_on": typed["opened_on"],
            "kind": value("kind"),
            "closed_on": typed["closed_on"],
            "closure_reason": f"coalesce({value('closure_reason')}, '')",
        # Closed episodes first: the one open episode of a person comes last.
        }, f"{source} ORDER BY ({value('closed_on')} IS NULL), s.line")

    def _insert_visits(self, cursor) -> int:
        source, typed = self._source(
            "visits.csv",
            f"LEFT JOIN import_sites site ON site.name = lower({value('site')})")
        return self._insert(cursor, Visit, {
            "patient_id": "k.patient_id",
            "date": typed["date"],
            "time": typed["time"],
            "site_id": "site.id",
        }, source)

    def _insert_consultations(self, cursor) -> int:
        model = apps.get_model("consultations.Consultation")
        author = value("author")
        source, typed = self._source("consultations.csv",
                                     f"LEFT JOIN mass_user u ON u.username = {author}")
        return self._insert(cursor, model, {
            "patient_id": "k.patient_id",
            "date": typed["date"],
            "time": typed["time"],
            "discipline": value("discipline"),
            "note": f"coalesce({value('note')}, '')",
            # An author known here by username is linked; any other name is kept as text.
            "author_id": "u.id",
            "author_name": f"CASE WHEN u.id IS NULL THEN coalesce({author}, '') ELSE '' END",
            "imported": "true",
        }, source)

    def _insert_income(self, cursor) -> int:
        model = apps.get_model("social.IncomeRecord")
        source, typed = self._source("income.csv")
        return self._insert(cursor, model, {
            "patient_id": "k.patient_id",
            "date": typed["date"],
            "source": value("source"),
        }, source)

    def _advance_file_number_sequence(self, cursor):
        """Numbers given at registration must not collide with imported numeric ones."""
        cursor.execute(
            "SELECT setval('patients_file_number_seq', GREATEST("
            "(SELECT max(file_number::bigint) FROM patients_patient "
            " WHERE file_number ~ '^[0-9]{1,18}$'), "
            "(SELECT last_value FROM patients_file_number_seq)))")


def import_records(directory, *, dry_run: bool = False) -> ImportResult:
    return Importer(Path(directory)).run(dry_run=dry_run)
