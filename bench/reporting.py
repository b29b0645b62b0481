"""Benchmark of the yearly figures: ten years (2016-2025) at ten times the volumes of seed 000
(per year about 6,200 active patients, 133,000 patient contacts, 200,000 consultations,
3,600 new and resumption requests), loaded with COPY into a throwaway database.

    DEMO=1 .venv/bin/python -m bench reporting [--years 10] [--scale 10] [--repeat 7] [--keep]

Printed, for the last year: the time of ``reporting.selectors.file_active_figures`` (what the
JSON export and ``file_active`` compute) next to one hand-written SQL query computing the same
figures on the same database (the two results are checked equal), their ratio (goal: within
2x), and the number of queries, with few and many rows; then the page, the JSON export and an
explanation list through the test client.

Runs in ``bench_reporting`` on the same PostgreSQL server, dropped at the end (``--keep`` keeps
it for EXPLAIN ANALYZE).
"""

import argparse
import datetime
import os
import random
import statistics
import time

D = datetime.date

#: Seed 000, year 2016 (docs/domain.md).
SEED_PATIENTS = 624
SEED_CONTACTS = 13_332
SEED_CONSULTATIONS = 20_373
SEED_NEW, SEED_RESUMPTION = 162, 202
SEED_ACTIVITY_DAYS = 278
INCOME = ["pension", "salary", "sickness_benefit", "unemployment", "cpas", "none", "other"]
DISCIPLINES = ["medical", "medical", "psychiatric", "psychological", "social", "social",
               "nursing", "nursing", "other"]


def timed(function, repeat: int) -> tuple[float, object]:
    """Median wall time in milliseconds of ``repeat`` calls (after one warm-up call)."""
    result = function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


# --- loading --------------------------------------------------------------------------------


class Copier:
    """COPY rows into a model's table; the columns not given get the model's defaults."""

    def __init__(self, cursor, now):
        self.cursor, self.now = cursor, now
        self.counts: dict[str, int] = {}

    def columns(self, model, given: list[str]) -> tuple[list[str], list]:
        from django.db import models
        names, fixed = [], []
        for field in model._meta.concrete_fields:
            if field.primary_key or getattr(field, "generated", False):
                continue
            names.append(field.column)
            if field.attname in given:
                fixed.append(None)
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                fixed.append(self.now)
            elif field.has_default():
                fixed.append(field.get_default())
            elif field.null:
                fixed.append(None)
            elif isinstance(field, (models.CharField, models.TextField)):
                fixed.append("")
            else:
                raise ValueError(f"{model.__name__}.{field.attname} needs a value")
        return names, fixed

    def copy(self, model, given: list[str], rows) -> None:
        names, fixed = self.columns(model, given)
        positions = {field.attname: i for i, field in enumerate(
            f for f in model._meta.concrete_fields
            if not f.primary_key and not getattr(f, "generated", False))}
        slots = [positions[name] for name in given]
        table = model._meta.db_table
        count = 0
        with self.cursor.copy(f'COPY "{table}" ({", ".join(names)}) FROM STDIN') as copy:
            for row in rows:
                values = list(fixed)
                for slot, value in zip(slots, row, strict=True):
                    values[slot] = value
                copy.write_row(values)
                count += 1
        self.counts[table] = self.counts.get(table, 0) + count


def generate(*, years: list[int], scale: float, seed: int = 2016):
    """The history, as rows per model (generated in Python, deterministic)."""
    rng = random.Random(seed)
    per_year_patients = int(SEED_PATIENTS * scale)
    pool_size = int(per_year_patients * 3.2)
    contacts_per_year = int(SEED_CONTACTS * scale)
    consultations_per_pair = SEED_CONSULTATIONS / SEED_CONTACTS
    pool = list(range(pool_size))
    on_substitution = set(rng.sample(pool, int(pool_size * 0.4)))
    # A stable core comes every year; the others churn.
    core = rng.sample(pool, int(per_year_patients * 0.45))
    rows = {"visits": [], "consultations": [], "dispensations": [], "sessions": [],
            "attendances": [], "harm_reduction": []}
    first_day = {}
    for year in years:
        days = [D(year, 1, 1) + datetime.timedelta(n) for n in range(366)]
        days = [d for d in days if d.year == year and d.weekday() < 6]
        closed = set(rng.sample(days, max(len(days) - SEED_ACTIVITY_DAYS, 0)))
        days = [d for d in days if d not in closed]
        core_set = set(core)
        others = rng.sample([p for p in pool if p not in core_set],
                            per_year_patients - len(core))
        active = core + others
        weights = [rng.lognormvariate(0, 1.1) * (3 if p in on_substitution else 1)
                   for p in active]
        total = sum(weights)
        for patient, weight in zip(active, weights, strict=True):
            count = min(len(days), max(1, round(weight / total * contacts_per_year)))
            for day in rng.sample(days, count):
                first_day[patient] = min(first_day.get(patient, day), day)
                routes = 0
                if patient in on_substitution and rng.random() < 0.8:
                    rows["dispensations"].append((patient, day))
                    routes += 1
                if rng.random() < 0.6:
                    rows["visits"].append((patient, day))
                    routes += 1
                consultations = sum(rng.random() < consultations_per_pair / 3 for _ in range(3))
                if rng.random() < 0.15:
                    consultations += 1
                for _ in range(consultations):
                    rows["consultations"].append((patient, day, rng.choice(DISCIPLINES)))
                if not routes and not consultations:
                    rows["visits"].append((patient, day))
        for week in range(0, len(days), 6):
            day = days[week]
            rows["sessions"].append((day, rng.choice(["community_health", "harm_reduction",
                                                      "relaxation"])))
            session = len(rows["sessions"])  # 1-based: the session's position
            for patient in rng.sample(active, int(8 * scale ** 0.5)):
                rows["attendances"].append((session, patient))
        handing = active + [None] * len(active)  # half of the hand-outs are anonymous
        for _ in range(int(2_000 * scale)):
            rows["harm_reduction"].append((rng.choice(days), rng.choice(handing),
                                           rng.choice(["syringe", "stericup", "foil", "pipe"]),
                                           rng.randint(1, 20), rng.randint(0, 20)))
    # Episodes, year by year, at the seed's rates: new requests from people never in
    # treatment, resumptions from people whose last episode is closed; some episodes close.
    episodes, income = [], []
    state = {}  # patient -> (index in episodes of the last episode, still open)
    for year in years:
        active_year = [p for p in pool if p in first_day and first_day[p].year <= year]
        rng.shuffle(active_year)
        for patient, (index, still_open) in list(state.items()):
            opened = episodes[index][1]
            if still_open and opened.year < year and rng.random() < 0.35:
                closed = max(opened, D(year, 1, 1)) + datetime.timedelta(rng.randint(0, 300))
                episodes[index] = (*episodes[index][:3], closed)
                state[patient] = (index, False)
        new = [p for p in active_year if p not in state][:int(SEED_NEW * scale)]
        again = [p for p in active_year if p in state and not state[p][1]
                 and episodes[state[p][0]][3] < D(year, 10, 1)][:int(SEED_RESUMPTION * scale)]
        for patient in new + again:
            earliest = D(year, 1, 1) if patient not in state else max(
                D(year, 1, 1), episodes[state[patient][0]][3] + datetime.timedelta(1))
            opened = earliest + datetime.timedelta(rng.randint(0, (D(year, 12, 31)
                                                                   - earliest).days))
            episodes.append((patient, opened, "resumption" if patient in state else "new",
                             None))
            state[patient] = (len(episodes) - 1, True)
    for patient, start in first_day.items():
        for n in range(rng.randint(0, 3)):
            income.append((patient, start + datetime.timedelta(200 * n + rng.randint(0, 150)),
                           rng.choice(INCOME)))
    rows["episodes"], rows["income"] = episodes, income
    rows["pool"], rows["on_substitution"] = pool, on_substitution
    return rows


def load(rows) -> dict[str, int]:
    from django.db import connection
    from django.utils import timezone

    from consultations.models import Consultation, GroupAttendance, GroupSession
    from dispensary.models import Dispensation, Prescription, Product
    from patients.models import Episode, HarmReductionContact, Patient, Visit
    from social.models import IncomeRecord

    now = timezone.now()
    methadone = Product.objects.get(name="Methadone syrup 1 mg/ml")
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        copier = Copier(cursor, now)
        # The generated history follows the ledgers' rules; checking them row by row (the
        # dispensary's triggers) and the foreign keys would only slow the load down.
        cursor.execute("SET session_replication_role = replica")
        rng = random.Random(99)
        copier.copy(Patient, ["file_number", "alias", "birth_year", "sex"], (
            (f"B{n:07d}", f"Bench {n}", rng.choice([None, *range(1955, 2006)]),
             rng.choice("FFMMMMXU")) for n in rows["pool"]))
        cursor.execute("SELECT id FROM patients_patient ORDER BY file_number")
        ids = [row[0] for row in cursor.fetchall()]
        patient = dict(zip(rows["pool"], ids, strict=True))
        prescriptions = Prescription.objects.bulk_create(
            Prescription(patient_id=patient[p], product=methadone, daily_dose=60,
                         start_date=D(2010, 1, 1), course_started_on=D(2010, 1, 1))
            for p in sorted(rows["on_substitution"]))
        prescription = {rx.patient_id: rx.pk for rx in prescriptions}
        cursor.execute("SELECT id FROM mass_site WHERE kind = 'centre' ORDER BY id LIMIT 1")
        centre = cursor.fetchone()[0]
        copier.copy(Visit, ["patient_id", "date", "site_id"],
                    ((patient[p], d, centre) for p, d in rows["visits"]))
        copier.copy(Consultation, ["patient_id", "date", "discipline", "imported", "site_id"],
                    ((patient[p], d, discipline, True, centre)
                     for p, d, discipline in rows["consultations"]))
        copier.copy(Dispensation, ["patient_id", "prescription_id", "product_id", "date",
                                   "dose_date", "part", "status", "quantity",
                                   "intoxication_signs", "dispensed_at"],
                    ((patient[p], prescription[patient[p]], methadone.pk, d, d, "day", "given",
                      60, False, now) for p, d in rows["dispensations"]))
        copier.copy(GroupSession, ["date", "kind", "site_id"],
                    ((d, kind, centre) for d, kind in rows["sessions"]))
        cursor.execute("SELECT id FROM consultations_groupsession ORDER BY id")
        sessions = [row[0] for row in cursor.fetchall()]
        copier.copy(GroupAttendance, ["session_id", "patient_id"],
                    ((sessions[s - 1], patient[p]) for s, p in rows["attendances"]))
        # Each hand-out recorded at its own second, as through the desk's form.
        copier.copy(HarmReductionContact, ["date", "patient_id", "material", "handed_out",
                                           "returned", "site_id", "created_at"],
                    ((d, patient[p] if p is not None else None, material, out, back, centre,
                      now - datetime.timedelta(seconds=n))
                     for n, (d, p, material, out, back) in enumerate(rows["harm_reduction"])))
        copier.copy(Episode, ["patient_id", "opened_on", "kind", "closed_on", "closure_reason"],
                    ((patient[p], opened, kind, closed, "lost_contact" if closed else "")
                     for p, opened, kind, closed in rows["episodes"]))
        copier.copy(IncomeRecord, ["patient_id", "date", "source"],
                    ((patient[p], d, source) for p, d, source in rows["income"]))
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
    copier.counts["dispensary_prescription"] = len(prescriptions)
    return copier.counts


# --- the hand-written query -----------------------------------------------------------------

HAND_WRITTEN = """
WITH contacts AS MATERIALIZED (
    SELECT patient_id, date FROM patients_visit WHERE date BETWEEN %(start)s AND %(end)s
    UNION
    SELECT patient_id, date FROM consultations_consultation
    WHERE date BETWEEN %(start)s AND %(end)s
    UNION
    SELECT a.patient_id, s.date FROM consultations_groupattendance a
    JOIN consultations_groupsession s ON s.id = a.session_id
    WHERE s.date BETWEEN %(start)s AND %(end)s
    UNION
    SELECT d.patient_id, d.date FROM dispensary_dispensation d
    WHERE d.date BETWEEN %(start)s AND %(end)s
      AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation x
                      WHERE x.dispensation_id = d.id)
),
in_treatment AS (
    SELECT DISTINCT patient_id FROM patients_episode
    WHERE opened_on <= %(end)s AND (closed_on IS NULL OR closed_on >= %(start)s)
),
income AS (
    SELECT t.patient_id, coalesce(latest.source, 'unknown') AS source
    FROM in_treatment t
    LEFT JOIN LATERAL (
        SELECT r.source FROM social_incomerecord r
        WHERE r.patient_id = t.patient_id AND r.date <= %(end)s
          AND NOT EXISTS (SELECT 1 FROM social_incomerecord c WHERE c.corrects_id = r.id)
        ORDER BY r.date DESC, r.id DESC LIMIT 1
    ) AS latest ON true
),
given AS (
    SELECT d.patient_id, p.is_substitution FROM dispensary_dispensation d
    JOIN dispensary_product p ON p.id = d.product_id
    WHERE d.date BETWEEN %(start)s AND %(end)s AND d.status = 'given'
      AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation x
                      WHERE x.dispensation_id = d.id)
)
SELECT
    (SELECT count(DISTINCT patient_id) FROM contacts) AS annual_active_patients,
    (SELECT avg(n)::float8 FROM (SELECT count(DISTINCT patient_id) n FROM contacts
                                 GROUP BY date_trunc('month', date::timestamp)) m) AS monthly,
    (SELECT avg(n)::float8 FROM (SELECT count(DISTINCT patient_id) n FROM contacts
                                 GROUP BY date_trunc('week', date::timestamp)) w) AS weekly,
    (SELECT count(*) FROM contacts) AS patient_contacts,
    (SELECT count(DISTINCT date) FROM contacts) AS activity_days,
    (SELECT count(*) FROM consultations_consultation
     WHERE date BETWEEN %(start)s AND %(end)s) AS consultations,
    (SELECT count(*) FROM patients_episode e WHERE e.opened_on BETWEEN %(start)s AND %(end)s
       AND NOT EXISTS (SELECT 1 FROM patients_episode p WHERE p.patient_id = e.patient_id
                       AND (p.opened_on, p.id) < (e.opened_on, e.id))) AS new_requests,
    (SELECT count(*) FROM patients_episode e WHERE e.opened_on BETWEEN %(start)s AND %(end)s
       AND EXISTS (SELECT 1 FROM patients_episode p WHERE p.patient_id = e.patient_id
                   AND (p.opened_on, p.id) < (e.opened_on, e.id))) AS resumption_requests,
    (SELECT count(*) FROM in_treatment) AS patients_in_treatment,
    (SELECT json_object_agg(source, percent) FROM (
        SELECT source, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS percent
        FROM income GROUP BY source) s) AS income,
    (SELECT count(*) FROM given) AS dispensations,
    (SELECT count(DISTINCT patient_id) FROM given WHERE is_substitution)
        AS patients_on_substitution,
    (SELECT count(*) FROM consultations_groupattendance a
     JOIN consultations_groupsession s ON s.id = a.session_id
     WHERE s.date BETWEEN %(start)s AND %(end)s) AS group_attendances,
    (SELECT count(DISTINCT (date, site_id, patient_id, logged_by_id,
                            date_trunc('second', created_at)))
     FROM patients_harmreductioncontact WHERE date BETWEEN %(start)s AND %(end)s)
        AS harm_reduction_contacts
"""


def hand_written(year: int) -> dict:
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute(HAND_WRITTEN, {"start": D(year, 1, 1), "end": D(year, 12, 31)})
        columns = [c.name for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    days = row["activity_days"]
    income = dict.fromkeys([*INCOME, "unknown"], 0.0)
    income.update({k: float(v) for k, v in (row.pop("income") or {}).items()})
    return {
        "annual_active_patients": row["annual_active_patients"],
        "monthly_active_patients_avg": row["monthly"] or 0.0,
        "weekly_active_patients_avg": row["weekly"] or 0.0,
        "daily_distinct_patients_avg": row["patient_contacts"] / days if days else 0.0,
        "daily_consultations_avg": row["consultations"] / days if days else 0.0,
        "new_requests": row["new_requests"],
        "resumption_requests": row["resumption_requests"],
        "patient_contacts": row["patient_contacts"],
        "consultations": row["consultations"],
        "activity_days": days,
        "patients_in_treatment": row["patients_in_treatment"],
        "income_in_treatment": income,
        "dispensations": row["dispensations"],
        "patients_on_substitution": row["patients_on_substitution"],
        "group_attendances": row["group_attendances"],
        "harm_reduction_contacts": row["harm_reduction_contacts"],
    }


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.settings_test")
    os.environ["TEST_DATABASE_NAME"] = "bench_reporting"
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    last = 2025
    years = list(range(last - args.years + 1, last + 1))
    started = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database bench_reporting migrated in {time.perf_counter() - started:.0f} s")
    try:
        from mass.models import User
        from reporting.selectors import file_active_figures

        started = time.perf_counter()
        rows = generate(years=years, scale=args.scale)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        counts = load(rows)
        print(f"{years[0]}-{years[-1]} at {args.scale:g}x seed 000: generated in "
              f"{generated:.0f} s, loaded with COPY in {time.perf_counter() - started:.0f} s")
        for table, count in sorted(counts.items()):
            print(f"  {table:<40} {count:>10,}")

        expected = {key: value for key, value in hand_written(last).items()}
        ours = file_active_figures(last).figures
        for key, value in expected.items():
            if key == "income_in_treatment":
                # Rounded per source here, by largest remainder there (adding up to 100.0):
                # a share may differ by the tenth handed out.
                assert all(abs(ours[key][source] - share) < 0.1 + 1e-9
                           for source, share in value.items()), (key, ours[key], value)
                continue
            assert abs(ours[key] - value) < 1e-9 if isinstance(value, float) else \
                ours[key] == value, (key, ours[key], value)
        print(f"\nfigures of {last} (equal in both computations):")
        for key in ("annual_active_patients", "monthly_active_patients_avg",
                    "weekly_active_patients_avg", "daily_distinct_patients_avg",
                    "daily_consultations_avg", "new_requests", "resumption_requests",
                    "patient_contacts", "consultations", "activity_days",
                    "patients_in_treatment", "dispensations", "patients_on_substitution"):
            value = ours[key]
            print(f"  {key:<30} {value:>12,.2f}" if isinstance(value, float)
                  else f"  {key:<30} {value:>12,}")

        with CaptureQueriesContext(connection) as queries:
            file_active_figures(last)
        ours_ms, _ = timed(lambda: file_active_figures(last), args.repeat)
        hand_ms, _ = timed(lambda: hand_written(last), args.repeat)
        few_year = years[0] - 5  # a year with no record: the query count must not change
        with CaptureQueriesContext(connection) as few:
            file_active_figures(few_year)
        print(f"\nyearly figures of {last} (median of {args.repeat}):")
        print(f"  reporting.selectors.file_active_figures  {ours_ms:8.1f} ms  "
              f"{len(queries)} queries ({len(few)} for an empty year)")
        print(f"  one hand-written SQL query               {hand_ms:8.1f} ms  1 query")
        ratio = ours_ms / hand_ms
        print(f"  ratio                                    {ratio:8.2f}x  "
              f"({'within' if ratio <= 2 else 'ABOVE'} the 2x goal)")

        user = User.objects.create(username="bench_coordinator")
        user.groups.set(Group.objects.filter(name="coordinator"))
        # Keep one connection across requests, as a production server does (CONN_MAX_AGE),
        # so that the queries of a request can be counted.
        from django.core import signals
        from django.db import close_old_connections, reset_queries
        signals.request_started.disconnect(close_old_connections)
        signals.request_started.disconnect(reset_queries)
        signals.request_finished.disconnect(close_old_connections)
        client = Client()
        client.force_login(user)
        pages = [("page (two years, breakdowns, charts)", f"/reporting/file-active/{last}/"),
                 ("JSON export", f"/reporting/file-active/{last}/?format=json"),
                 ("XLSX export", f"/reporting/file-active/{last}/?format=xlsx"),
                 ("explanation list, page 1", f"/reporting/file-active/{last}/explain/"
                                              "patient_contacts/"),
                 ("explanation list, page 500", f"/reporting/file-active/{last}/explain/"
                                                "patient_contacts/?page=500")]
        print("\nthrough the test client (median, queries):")
        for label, url in pages:
            with CaptureQueriesContext(connection) as page_queries:
                assert client.get(url).status_code == 200, url
            ms, _ = timed(lambda url=url: client.get(url), max(3, args.repeat // 2))
            print(f"  {label:<40} {ms:8.1f} ms  {len(page_queries)} queries")
    finally:
        if args.keep:
            print("kept the database bench_reporting")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
