"""The patients app's hand-written SQL: every statement the ORM cannot say, or not as fast,
each with its reason (docs/style.md, "Where SQL lives"). The importer (patients/importer.py)
keeps its own: it loads files with COPY into staging tables.

The functions take explicit keyword parameters and return plain rows or values; the
selectors (patients.selectors) turn them into what the pages show."""

import datetime

from django.db import connection
from django.db.models import QuerySet

from mass import contributions
from mass.models import Site
from patients.models import (
    HarmReductionContact,
    HarmReductionContactCancellation,
    Patient,
    PatientPhoto,
    PurposeCount,
    Visit,
    VisitCancellation,
)

# --- the patient search ---------------------------------------------------------------------
#
# The search runs at every pause in typing at the desk. It is written in SQL: the ORM took
# longer to build it (Q objects, trigram lookups and similarity expressions: about 3 ms)
# than PostgreSQL takes to answer most searches. The SQL is the one the ORM wrote (the
# same operators, so the same trigram index), as tests/patients/test_search.py checks.

#: A typed word as ``Patient.search_text`` holds it (models.unaccent_lower).
_TYPED = "lower(mass_unaccent(%s))"
#: ... anywhere in the text, with LIKE's wildcards in it escaped (as Django's "contains").
_SUBSTRING = ("'%%' || replace(replace(replace(" + _TYPED + r", E'\\', E'\\\\'), "
              r"E'%%', E'\\%%'), E'_', E'\\_') || '%%'")
#: The columns of a patient the search reads, twice per row (the file, then its kept file).
SEARCH_FIELDS = [f.attname for f in Patient._meta.concrete_fields if not f.generated]


def _name_conditions(words: list[str]) -> tuple[list[str], list, list[str]]:
    """The SQL conditions (on ``p``) and their parameters for the typed words, and the
    words whose similarity ranks the results."""
    if len(words) == 1 and len(words[0]) == 1:
        # One letter: only a whole alias, not every name that contains it.
        return ["upper(p.alias) = upper(%s)"], [words[0]], []
    match, params = [], []
    # A word of one or two letters ("de", "la", "Jo") resembles thousands of files: beside a
    # longer word, it is checked on the files the longer words found, not looked up in the
    # trigram index (`|| ''` is not the indexed expression), which would return those
    # thousands to be compared one by one ("L'Ardennais de la gare" at ten times seed 000:
    # 80 ms, against 9 ms; the same files found, tests/patients/test_search.py). Only when
    # a longer word has a letter or a digit: "..." has no trigram to look up.
    indexed = any(len(word) >= 3 and any(c.isalnum() for c in word) for word in words)
    short = "(p.search_text || '')" if indexed else "p.search_text"
    for word in words:
        # Every word must be found (misspelt or not) somewhere in the file's names: "jean
        # dupont" finds Jean Dupont, not every Jean and every Dupont. A word of 3 letters or
        # more may also be a substring of a file number or a name ("1004", "dup"). The
        # substring first: PostgreSQL checks again each file the index found, and a file
        # holding the word as typed then skips the similarity, which it computes once more to
        # rank the results (a common alias, 1,400 files found: 11 -> 7.5 ms).
        if len(word) >= 3:
            match.append(f"(p.search_text LIKE {_SUBSTRING} OR p.search_text %%> {_TYPED})")
            params += [word, word]
        else:
            match.append(f"{short} %%> {_TYPED}")
            params.append(word)
    return match, params, words


def patient_search_rows(*, typed: str, words: list[str], years: list[int], limit: int,
                        day: datetime.date) -> list[tuple]:
    """The files matching what was typed, best first, at most ``limit`` rows: the file typed
    in full (``typed``, any case), or every file not merged whose names hold each of
    ``words`` (misspelt or not) and born in one of ``years`` (when given). Each row: the
    file's ``SEARCH_FIELDS``, its kept file's (all None when not merged), then has_photo
    and last_visit before ``day`` (identity_columns_sql).
    SQL: the desk's search at every pause in typing (above: about 3 ms to build through the
    ORM, more than most answers take)."""
    match, params, words = _name_conditions(words)
    if years:
        match.append("p.birth_year = ANY(%s)")
        params.append(years)
    match.append("p.status <> %s")
    params.append(Patient.Status.MERGED.value)
    # The file typed in full first, then the best matching names (the sum of each word's
    # similarity), then by alias.
    order = ["(upper(p.file_number) = upper(%s)) DESC"]
    if words:
        order.append("(" + " + ".join([f"word_similarity({_TYPED}, p.search_text)"]
                                      * len(words)) + ") DESC")
    table = Patient._meta.db_table
    columns = ", ".join(f'{alias}."{Patient._meta.get_field(name).column}"'
                        for alias in ("p", "m") for name in SEARCH_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, {identity_columns_sql('%s')} FROM {table} p "
                       f"LEFT JOIN {table} m ON m.id = p.merged_into_id "
                       f"WHERE upper(p.file_number) = upper(%s) OR ({' AND '.join(match)}) "
                       f"ORDER BY {', '.join(order)}, p.alias, p.id LIMIT %s",
                       [day, typed, *params, typed, *words, limit])
        return cursor.fetchall()


#: SQL (on ``p``, a patient row; ``%(day)s`` or the given parameter the day of the page) of
#: what the lists show next to an alias besides the patient's own columns: whether they have
#: a photo, and their last walk-in before today. In the lists' own queries, so that a list
#: of 300 people makes no query more (the index patients_visit_patient_date answers it).
def identity_columns_sql(day_param: str = "%(day)s", *, named: bool = True) -> str:
    photo, visit = PatientPhoto._meta.db_table, Visit._meta.db_table
    cancelled = VisitCancellation._meta.db_table
    has_photo, last_visit = (" AS has_photo", " AS last_visit") if named else ("", "")
    return (f"EXISTS (SELECT 1 FROM {photo} ph WHERE ph.patient_id = p.id){has_photo}, "
            # ORDER BY ... LIMIT 1, not max(): with the cancellations left out, max() reads
            # every walk-in of the person; this walks the (patient, date) index backwards and
            # stops at the first one standing (5x faster on the dispensing list's 300 rows).
            f"(SELECT lv.date FROM {visit} lv WHERE lv.patient_id = p.id "
            f"AND lv.date < {day_param} AND NOT EXISTS (SELECT 1 FROM {cancelled} lx "
            f"WHERE lx.visit_id = lv.id) ORDER BY lv.date DESC LIMIT 1){last_visit}")


# --- file numbers ---------------------------------------------------------------------------


def file_number_sequence_next() -> int:
    """The next value of the file numbers' sequence. SQL: a sequence is read by a function
    call (``nextval``), which the ORM has no word for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('patients_file_number_seq')")
        return cursor.fetchone()[0]


# --- contact days ---------------------------------------------------------------------------
#
# ``patients_contact_days`` (patients migration 0008) gives the contacts as the 6-month rule
# reads them; tests/patients/test_six_month_rule.py checks they are the apps'. SQL: the ORM
# cannot select from a set-returning function.


def last_contact_day(*, patient_id: int, before: datetime.date | None = None
                     ) -> datetime.date | None:
    """The latest contact day of the patient, strictly before ``before`` when given."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(date) FROM patients_contact_days(ARRAY[%s]::bigint[]) "
                       "WHERE %s::date IS NULL OR date < %s::date",
                       [patient_id, before, before])
        return cursor.fetchone()[0]


def contact_days(*, patient_ids: list[int]) -> list[datetime.date]:
    """Every day with a contact of any of these patients, in order, each once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT date FROM patients_contact_days(%s) ORDER BY date",
                       [patient_ids])
        return [row[0] for row in cursor.fetchall()]


# --- what people usually come for -----------------------------------------------------------

#: Each person's walk-ins since ``%(since)s`` not cancelled, counted by purpose, the most
#: frequent first (the latest on a tie); then everyone's, from the counts the database keeps
#: by day and purpose (PurposeCount, patients/triggers.py): a few hundred rows for 90 days
#: where every walk-in was read (34,000 at ten times seed 000: 6 ms of the desk's search).
_USUAL_PURPOSE_SQL = f"""
    (SELECT DISTINCT ON (patient_id) patient_id, purpose
       FROM (SELECT patient_id, purpose, count(*) AS n, max(date) AS latest
               FROM {Visit._meta.db_table} v
              WHERE v.patient_id = ANY(%(ids)s) AND date > %(since)s AND NOT EXISTS (
                    SELECT 1 FROM {VisitCancellation._meta.db_table} x WHERE x.visit_id = v.id)
              GROUP BY patient_id, purpose) AS counted
      ORDER BY patient_id, n DESC, latest DESC, purpose)
    UNION ALL
    (SELECT NULL, purpose FROM {PurposeCount._meta.db_table} WHERE date > %(since)s
      GROUP BY purpose HAVING sum(walk_ins) > 0 ORDER BY sum(walk_ins) DESC, purpose LIMIT 1)
"""


#: The walk-ins counted by day and purpose from the walk-ins themselves: what the rules keep
#: (patients/triggers.py), counted whole again after the owner's bulk work
#: (docs/operations.md). The owner's only: the application's role may not write the table.
PURPOSE_COUNTS_REBUILD = f"""
    DELETE FROM {PurposeCount._meta.db_table};
    INSERT INTO {PurposeCount._meta.db_table} (date, purpose, walk_ins)
    SELECT date, purpose, count(*) FROM {Visit._meta.db_table} AS v
     WHERE NOT EXISTS (SELECT 1 FROM {VisitCancellation._meta.db_table} AS x
                        WHERE x.visit_id = v.id)
     GROUP BY date, purpose"""


def usual_purpose_rows(*, patient_ids: list[int], since: datetime.date) -> list[tuple]:
    """(patient_id, purpose) of each of these people's most frequent walk-in purpose since
    ``since`` (the latest on a tie), and (None, purpose) of everyone's (none when nobody
    came). SQL: DISTINCT ON over counted groups, and a UNION ALL of two halves each with its
    own ORDER BY and LIMIT, in one statement the desk's search waits on."""
    with connection.cursor() as cursor:
        cursor.execute(_USUAL_PURPOSE_SQL, {"since": since, "ids": patient_ids})
        return cursor.fetchall()


# --- the reception board --------------------------------------------------------------------


def _board_sql(*, by_site: bool) -> str:
    """Today's counts, latest walk-ins and harm-reduction material, and the active sites,
    in one statement (one row, whatever the day holds), the lists as JSON arrays."""
    visit, patient = Visit._meta.db_table, Patient._meta.db_table
    site, contact = Site._meta.db_table, HarmReductionContact._meta.db_table
    user = Visit._meta.get_field("logged_by").related_model._meta.db_table
    visit_x = VisitCancellation._meta.db_table
    contact_x = HarmReductionContactCancellation._meta.db_table
    where = "date = %(day)s" + (" AND site_id = %(site)s" if by_site else "")
    # Counted: what was not cancelled. Listed: the latest walk-ins, a cancelled one too
    # (struck through, with who cancelled it and why), so the desk sees what happened.
    standing = f"NOT EXISTS (SELECT 1 FROM {visit_x} x WHERE x.visit_id = {visit}.id)"
    standing_contact = (f"NOT EXISTS (SELECT 1 FROM {contact_x} x "
                        f"WHERE x.contact_id = {contact}.id)")
    purposes = ", ".join(f"count(*) FILTER (WHERE purpose = '{value}')"
                         for value in Visit.Purpose.values)
    return f"""
        SELECT counts.*, latest.visits, material.rows,
               (SELECT coalesce(json_agg(json_build_array(id, name, kind)
                                         ORDER BY kind DESC, name), '[]')
                  FROM {site} WHERE is_active) AS sites,
               (SELECT count(*) FROM {visit} WHERE {where}) AS logged
          FROM (SELECT count(*), count(DISTINCT patient_id), {purposes}
                  FROM {visit} WHERE {where} AND {standing}) AS counts,
               (SELECT coalesce(json_agg(json_build_array(
                           v.patient_id, p.alias, p.file_number,
                           json_build_array(p.birth_year, p.sex, p.distinguishing_note,
                                            {identity_columns_sql(named=False)}),
                           to_char(v.time, 'HH24:MI'),
                           v.purpose, s.name, u.id, u.username, u.first_name, u.last_name,
                           v.id, x.reason, x.cancelled_at, xu.id, xu.username, xu.first_name,
                           xu.last_name)
                           ORDER BY v.time DESC, v.id DESC), '[]')
                  FROM (SELECT * FROM {visit} WHERE {where}
                         ORDER BY time DESC, id DESC LIMIT %(rows)s) AS v
                  JOIN {patient} p ON p.id = v.patient_id
                  LEFT JOIN {site} s ON s.id = v.site_id
                  LEFT JOIN {user} u ON u.id = v.logged_by_id
                  LEFT JOIN {visit_x} x ON x.visit_id = v.id
                  LEFT JOIN {user} xu ON xu.id = x.cancelled_by_id) AS latest(visits),
               (SELECT coalesce(json_agg(json_build_array(
                           material, handed_out, returned, contacts) ORDER BY material), '[]')
                  FROM (SELECT material, sum(handed_out) AS handed_out,
                               sum(returned) AS returned, count(*) AS contacts
                          FROM {contact} WHERE {where} AND {standing_contact}
                         GROUP BY material) AS m
               ) AS material(rows)
    """


_BOARD_SQL = {by_site: _board_sql(by_site=by_site) for by_site in (False, True)}


def board_row(*, day: datetime.date, site_id: int | None, rows: int) -> tuple:
    """The board of ``day`` (at the site ``site_id``, or everywhere) as one row: the count
    of walk-ins, of people, one count per purpose (``Visit.Purpose`` order), the latest
    ``rows`` walk-ins, the harm-reduction material and the active sites as JSON arrays, and
    the number of walk-ins logged (cancelled ones too).
    SQL: the board is the desk's page, reloaded after every arrival; the ORM took longer to
    build its three queries (and 30 walk-ins as model instances) than PostgreSQL took to
    answer them (docs/benchmarks.md: the board in 17 ms, 5.0x a trivial page)."""
    with connection.cursor() as cursor:
        cursor.execute(_BOARD_SQL[site_id is not None],
                       {"day": day, "rows": rows, "site": site_id})
        return cursor.fetchone()


# --- who have we lost -----------------------------------------------------------------------
#
# SQL: the page is one statement whatever the number of rows (LATERAL joins, a UNION of the
# kinds of contact); per person the ORM would need a query for each column (last place,
# usual contact, doctor, social worker, last attempt).

#: The condition of each team's filter (patients.selectors.Team), on ``listed``.
_TEAM_SQL = {
    "substitution": "coalesce(listed.is_substitution, false)",
    "medical": """EXISTS (SELECT 1 FROM consultations_consultation c
                      WHERE c.patient_id = listed.patient_id AND c.date >= listed.opened_on
                        AND c.discipline IN ('medical', 'nursing'))""",
    "psy": """EXISTS (SELECT 1 FROM consultations_consultation c
                  WHERE c.patient_id = listed.patient_id AND c.date >= listed.opened_on
                    AND c.discipline IN ('psychological', 'psychiatric'))""",
    "social": """(EXISTS (SELECT 1 FROM social_socialaction a
                      WHERE a.patient_id = listed.patient_id
                        AND a.status IN ('open', 'in_progress'))
                  OR EXISTS (SELECT 1 FROM consultations_consultation c
                      WHERE c.patient_id = listed.patient_id AND c.date >= listed.opened_on
                        AND c.discipline = 'social'))""",
}

#: A staff member's name as ``str(user)`` gives it (mass.User: full name, else username).
_NAME = "coalesce(nullif(trim({u}.first_name || ' ' || {u}.last_name), ''), {u}.username)"


def _worklist_sql(running_sql: str, *, counted_sql: str, team: str | None, site: bool,
                  one: bool) -> str:
    """The worklist on the running episodes of ``running_sql`` (``Episode.objects.running()``
    as SQL, so the 6-month rule is read in one place). Parameters: see ``worklist_rows``.

    The people listed (``page``: the thresholds, the filters, the order and the limit) are
    chosen first, with only what that needs; the other columns are read for those rows only.
    """
    return f"""
    WITH running AS ({running_sql}),
    due AS (
        SELECT r.patient_id, r.opened_on,
               coalesce(r.last_contact_on, r.opened_on) AS last_contact,
               rx.is_substitution, rx.at_mass, rx.prescribed_by_id
          FROM running r
          -- (nobody reaches out to a merged stub or to someone who has died)
          JOIN patients_patient p ON p.id = r.patient_id
                                 AND p.status NOT IN ('merged', 'deceased')
          -- The running prescription: substitution first, then the one dispensed here.
          LEFT JOIN LATERAL (
              SELECT pr.is_substitution, x.pharmacy_id IS NULL AS at_mass, x.prescribed_by_id
                FROM dispensary_prescription x
                JOIN dispensary_product pr ON pr.id = x.product_id
               WHERE x.patient_id = r.patient_id AND x.start_date <= %s
                 AND (x.end_date IS NULL OR x.end_date >= %s)
               ORDER BY pr.is_substitution DESC, x.pharmacy_id IS NULL DESC,
                        x.start_date DESC, x.id DESC
               LIMIT 1) rx ON true
         -- A treatment episode, as the yearly figures count it (reporting's own rule): a
         -- harm-reduction-only or outreach-only episode is nobody's to reach out to here.
         WHERE {counted_sql}
    ),
    listed AS (
        SELECT due.*,
               CASE WHEN due.is_substitution AND due.at_mass THEN %s ELSE %s END AS threshold
          FROM due
    ),
    page AS (
        SELECT listed.*, p.alias, p.file_number, place.id AS place_id, place.name AS place,
               patients_six_months_after(listed.last_contact) AS rule_ends_on
          FROM listed
          JOIN patients_patient p ON p.id = listed.patient_id
          -- The last known place: the site of the latest contact that names one (the
          -- latest of each kind first, by the (patient, date) indexes).
          LEFT JOIN LATERAL (
              SELECT s.id, s.name FROM (
                  (SELECT v.site_id, v.date, v.time, 1 AS kind FROM patients_visit v
                    WHERE v.patient_id = listed.patient_id AND v.site_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM patients_visitcancellation x
                                       WHERE x.visit_id = v.id)
                    ORDER BY v.date DESC, v.time DESC NULLS LAST LIMIT 1)
                  UNION ALL
                  (SELECT c.site_id, c.date, c.time, 2 FROM consultations_consultation c
                    WHERE c.patient_id = listed.patient_id AND c.site_id IS NOT NULL
                    ORDER BY c.date DESC, c.time DESC NULLS LAST LIMIT 1)
                  UNION ALL
                  (SELECT g.site_id, g.date, g.time, 3 FROM consultations_groupattendance a
                     JOIN consultations_groupsession g ON g.id = a.session_id
                    WHERE a.patient_id = listed.patient_id AND g.site_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM consultations_groupattendancecancellation x
                                       WHERE x.attendance_id = a.id)
                    ORDER BY g.date DESC, g.time DESC NULLS LAST LIMIT 1)
              ) AS seen JOIN mass_site s ON s.id = seen.site_id
              ORDER BY seen.date DESC, seen.time DESC NULLS LAST, seen.kind
              LIMIT 1) place ON true
         WHERE {"listed.patient_id = %s" if one else
                "%s::date - listed.last_contact >= coalesce(%s, listed.threshold)"}
           {"AND place.id = %s" if site else ""}
           {"AND " + _TEAM_SQL[team] if team else ""}
         ORDER BY rule_ends_on, p.alias, p.id
         LIMIT %s
    )
    SELECT page.patient_id, page.alias, page.file_number, page.last_contact,
           %s::date - page.last_contact AS days_since, page.rule_ends_on, page.threshold,
           coalesce(page.is_substitution AND page.at_mass, false), page.place_id, page.place,
           usual.kind,
           CASE WHEN %s THEN coalesce({_NAME.format(u="prescriber")},
                                      {_NAME.format(u="doctor")}, doctor_visit.author_name)
                ELSE coalesce({_NAME.format(u="doctor")}, doctor_visit.author_name) END,
           coalesce({_NAME.format(u="worker")}, {_NAME.format(u="social")},
                    social_visit.author_name),
           attempt.date, attempt.result
      FROM page
      -- What they usually come for: the kind with the most contact days in the six months
      -- before today (the latest on a tie). Without the dispensary (dispensations and
      -- walk-ins for it) for those who may not see it; not read for coordinators.
      LEFT JOIN LATERAL (
          SELECT kinds.kind FROM (
              SELECT v.purpose AS kind, v.date FROM patients_visit v
               WHERE v.patient_id = page.patient_id AND v.date > %s
                 AND (%s OR v.purpose <> 'dispensing')
                 AND NOT EXISTS (SELECT 1 FROM patients_visitcancellation x
                                  WHERE x.visit_id = v.id)
              UNION
              SELECT CASE WHEN c.discipline = 'social' THEN 'social' ELSE 'consultation' END,
                     c.date FROM consultations_consultation c
               WHERE c.patient_id = page.patient_id AND c.date > %s
              UNION
              SELECT 'group', g.date FROM consultations_groupattendance a
                JOIN consultations_groupsession g ON g.id = a.session_id
               WHERE a.patient_id = page.patient_id AND g.date > %s
                 AND NOT EXISTS (SELECT 1 FROM consultations_groupattendancecancellation x
                                  WHERE x.attendance_id = a.id)
              UNION
              SELECT 'dispensing', d.date FROM dispensary_dispensation d
               WHERE %s AND d.patient_id = page.patient_id AND d.date > %s
                 AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation x
                                  WHERE x.dispensation_id = d.id)
          ) AS kinds GROUP BY kinds.kind ORDER BY count(*) DESC, max(kinds.date) DESC,
                                                  kinds.kind LIMIT 1) usual ON %s
      -- Their doctor: who prescribed the running prescription (for those who see the
      -- dispensary), else the author of the latest consultation of the disciplines the user
      -- may see as the doctor's (none for coordinators).
      LEFT JOIN mass_user prescriber ON prescriber.id = page.prescribed_by_id
      LEFT JOIN LATERAL (
          SELECT c.author_id, c.author_name FROM consultations_consultation c
           WHERE c.patient_id = page.patient_id AND c.discipline = ANY(%s)
           ORDER BY c.date DESC, c.time DESC NULLS LAST, c.id DESC LIMIT 1) doctor_visit ON true
      LEFT JOIN mass_user doctor ON doctor.id = doctor_visit.author_id
      -- Their social worker: the worker of their open social action (the latest opened),
      -- else the author of the latest social consultation.
      LEFT JOIN LATERAL (
          SELECT a.social_worker_id FROM social_socialaction a
           WHERE a.patient_id = page.patient_id AND a.status IN ('open', 'in_progress')
           ORDER BY a.opened_on DESC, a.id DESC LIMIT 1) action ON true
      LEFT JOIN mass_user worker ON worker.id = action.social_worker_id
      LEFT JOIN LATERAL (
          SELECT c.author_id, c.author_name FROM consultations_consultation c
           WHERE c.patient_id = page.patient_id AND c.discipline = 'social'
           ORDER BY c.date DESC, c.time DESC NULLS LAST, c.id DESC LIMIT 1) social_visit ON true
      LEFT JOIN mass_user social ON social.id = social_visit.author_id
      LEFT JOIN LATERAL (
          SELECT o.date, o.result FROM patients_outreachattempt o
           WHERE o.patient_id = page.patient_id ORDER BY o.date DESC, o.id DESC LIMIT 1
      ) attempt ON true
     ORDER BY page.rule_ends_on, page.alias, page.patient_id
    """


def worklist_rows(*, running: QuerySet, today: datetime.date, since: datetime.date,
                  substitution_days: int, other_days: int, days: int | None,
                  patient_id: int | None, site_id: int | None, team: str | None, limit: int,
                  dispensing: bool, clinical: bool, doctor_disciplines: list[str]) -> list[tuple]:
    """The worklist's rows (patients.selectors.worklist says what they hold and why), on the
    running episodes of ``running`` (``Episode.objects.running()`` with the columns
    ``_worklist_sql`` reads, so the 6-month rule is read in one place). ``since``: the start
    of the six months that say what someone usually comes for."""
    running_sql, running_params = running.query.sql_with_params()
    params = [*running_params, today, today, substitution_days, other_days]
    params += [patient_id] if patient_id is not None else [today, days]
    if site_id is not None:
        params.append(site_id)
    params += [limit, today, dispensing,
               since, dispensing, since, since, dispensing, since, clinical,
               doctor_disciplines]
    sql = _worklist_sql(running_sql,
                        counted_sql=contributions.episode_counted_sql("r"),
                        team=team or None, site=site_id is not None,
                        one=patient_id is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
