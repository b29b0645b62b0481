"""Every page at the scale users will reach: each address of the access matrix
(tests/access/test_matrix.py) a role may open, as each such role, on ten years at ten times
seed 000 (the history of bench/reporting.py), a file's pages again with the heaviest file
and with one of a tenth of its records in place of the access tests' small one, and the last
year's figures and lists.

    DEMO=1 .venv/bin/python -m bench pages [--scale 10] [--years 10] [--only TEXT]
                                           [--slow 500] [--keep] [--reuse]

Runs in ``bench_pages`` on the same PostgreSQL server, dropped at the end (``--keep`` keeps
it, ``--reuse`` measures again on it without loading). The access tests' objects (one behind
every address: tests/access/world.py) are written inside one transaction, rolled back at the
end; the requests run with the application's database role, each in a savepoint rolled back.

The history never ends a prescription; here those of the people given no dose in the last 30
days of the history are ended, which leaves about 1,900 running (a dispensing list of that
size: the list at the daily volume is bench/dispensary.py's). The history ends with its last
year, so the pages of today (the desk's board, today's material) read little, and every
running prescription is held (its last dose months ago): the dispensary's pages show their
worst case, a held list as long as the list.

Printed: each page slower than ``--slow`` ms, the slowest first (median of three requests
after one, the number of queries, the time of its slowest statement); the pages of a file
whose query count differs between the heaviest file and one with a tenth of its records
(goal: none: a page issues a bounded number of queries whatever the data size); and how many
pages were measured and how many were slower than ``--slow``. The addresses of the tests'
objects with one of these files in them that name nothing (a photo the file does not have,
an income record of another file: 404) are left out.
"""

import argparse
import datetime
import logging
import statistics
import time

from bench import _database

YEAR = 2025
#: The running prescriptions kept: given a dose in the last days of the history.
RECENT_DAYS = 30
#: A page whose first request took longer is measured once, not three times more.
LONG_MS = 5_000


def one_request(client, url) -> tuple[int, float, list]:
    """GET ``url`` in a savepoint rolled back: status, milliseconds, the queries."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        start = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = (time.perf_counter() - start) * 1000
        transaction.set_rollback(True)
    return response.status_code, elapsed, list(captured.captured_queries)


def measure(client, url) -> dict:
    try:
        _status, first, _queries = one_request(client, url)
        runs = [one_request(client, url) for _ in range(1 if first > LONG_MS else 3)]
    except Exception as error:  # noqa: BLE001 (a page that fails is reported, not fatal)
        return {"status": 500, "ms": 0.0, "queries": 0, "slowest_sql_ms": 0.0,
                "slowest_sql": f"{type(error).__name__}: {error}"[:160]}
    status, elapsed, queries = sorted(runs, key=lambda run: run[1])[len(runs) // 2]
    slowest = max(queries, key=lambda query: float(query["time"]), default=None)
    return {"status": status, "ms": statistics.median(run[1] for run in runs),
            "queries": len(queries),
            "slowest_sql_ms": float(slowest["time"]) * 1000 if slowest else 0.0,
            "slowest_sql": " ".join(slowest["sql"].split())[:160] if slowest else ""}


def end_stale_prescriptions(last_day) -> tuple[int, int]:
    """End the prescriptions of the people given no dose in the last RECENT_DAYS days of the
    history, on their last dose: (ended, running)."""
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("""
            UPDATE dispensary_prescription p SET end_date = greatest(p.start_date, last.day)
              FROM (SELECT r.id, max(d.date) AS day FROM dispensary_prescription r
                    LEFT JOIN dispensary_dispensation d ON d.prescription_id = r.id
                    WHERE r.end_date IS NULL GROUP BY r.id) AS last
             WHERE p.id = last.id AND coalesce(last.day, p.start_date) < %s""",
                       [last_day - datetime.timedelta(days=RECENT_DAYS)])
        ended = cursor.rowcount
        cursor.execute("SELECT count(*) FROM dispensary_prescription WHERE end_date IS NULL")
        return ended, cursor.fetchone()[0]


def two_files():
    """The file with the most walk-ins, consultations, doses, material and group sessions,
    and one with the same kinds of records and about a tenth as many (merged files aside):
    a page's query count must not grow from one to the other (a kind of record missing
    would leave out its own queries)."""
    from django.db import connection

    from patients.models import Patient
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH records AS (
                SELECT x.patient_id, count(*) AS n, count(DISTINCT x.kind) AS kinds FROM (
                    SELECT patient_id, 1 AS kind FROM patients_visit
                    UNION ALL SELECT patient_id, 2 FROM consultations_consultation
                    UNION ALL SELECT patient_id, 3 FROM dispensary_dispensation
                    UNION ALL SELECT patient_id, 4 FROM patients_harmreductioncontact
                    UNION ALL SELECT patient_id, 5 FROM consultations_groupattendance) AS x
                JOIN patients_patient p ON p.id = x.patient_id AND p.merged_into_id IS NULL
                GROUP BY 1),
            heaviest AS (SELECT patient_id, n, kinds FROM records ORDER BY n DESC, 1 LIMIT 1)
            SELECT h.patient_id, (SELECT r.patient_id FROM records r WHERE r.kinds = h.kinds
                                  ORDER BY abs(r.n - h.n / 10), 1 LIMIT 1)
            FROM heaviest h""")
        heaviest, tenth = cursor.fetchone()
    return Patient.objects.get(pk=heaviest), Patient.objects.get(pk=tenth)


def year_pages() -> list[tuple[str, str, str]]:
    """(label, matrix key, address) of the last year's figures, lists and exports, which the
    access tests open for the current year (empty here)."""
    from django.urls import reverse

    from labs.figures import CARE_FIGURES
    from reporting.explain import EXPLANATIONS

    def page(key, *args, query=""):
        return (f"{key} {' '.join(map(str, args))}{query}".strip(), key,
                reverse(key, args=args) + query)

    return [
        *[page("reporting:file_active", YEAR, query=query)
          for query in ("", "?format=json", "?format=csv", "?format=xlsx")],
        *[page("reporting:file_active_explain", YEAR, key) for key in EXPLANATIONS],
        page("reporting:file_active_explain", YEAR, "patient_contacts", query="?page=500"),
        page("reporting:outreach_arrivals", YEAR), page("reporting:file_active_declare", YEAR),
        page("reporting:tdi_year", YEAR), page("reporting:tdi_export", YEAR),
        page("labs:care_figures", YEAR),
        *[page("labs:care_figure_list", YEAR, key) for key in CARE_FIGURES],
    ]


def pages(world, files: dict) -> list[tuple[str, str, str, list]]:
    """(label, matrix key, address, roles allowed) of every page to measure: the access
    tests' addresses, those of a file again with each of ``files`` (label: world), the
    searches and the last year's pages."""
    from django.urls import reverse

    from tests.access.test_matrix import MATRIX
    from tests.access.world import ROLES, base_name, world_url

    def allowed(key):
        statuses = MATRIX.get(key, MATRIX.get(base_name(key), {})).get("GET", ())
        return [role for role, status in zip(ROLES, statuses, strict=True) if status == 200]

    found = []
    for key in MATRIX:
        roles = allowed(key)
        if not roles:
            continue
        url = world_url(world, key)
        found.append((key, key, url, roles))
        for name, file_world in files.items():
            if (file_url := world_url(file_world, key)) != url:
                found.append((f"{key} [{name}]", key, file_url, roles))
    heavy = files["heaviest file"].patient
    searches = [(f"{key} ?q={text}", key, reverse(key) + f"?q={text}")
                for key in ("patients:search", "reception:search")
                for text in ("Bench", heavy.alias, heavy.file_number)]
    return found + [(label, key, url, allowed(key))
                    for label, key, url in [*searches, *year_pages()]]


def load_history(args) -> None:
    from bench.reporting import generate, load
    started = time.perf_counter()
    years = list(range(YEAR - args.years + 1, YEAR + 1))
    load(generate(years=years, scale=args.scale))
    print(f"bench_pages: {years[0]}-{years[-1]} at {args.scale:g}x seed 000 loaded in "
          f"{time.perf_counter() - started:.0f} s")


def report(results: list[dict], slow_ms: float) -> None:
    slow = sorted((r for r in results if r["ms"] > slow_ms), key=lambda r: -r["ms"])
    print(f"\npages above {slow_ms:g} ms (median, queries, the slowest statement):")
    for r in slow:
        print(f"  {r['ms']:8.0f} ms {r['queries']:3d} q  {r['label']:<55} {r['role']:<13}"
              f" {r['slowest_sql_ms']:6.0f} ms: {r['slowest_sql'][:70]}")
    by_label = {(r["label"], r["role"]): r for r in results}
    grows = {}
    for (label, role), r in by_label.items():
        tenth = by_label.get((label.replace("[heaviest file]", "[a tenth of it]"), role))
        if label.endswith("[heaviest file]") and tenth and r["queries"] != tenth["queries"]:
            grows[f"{label} ({role})"] = (tenth["queries"], r["queries"])
    print("\nqueries of a file's pages, a file with a tenth of the heaviest's records against "
          "the heaviest (goal: the same):" + ("" if grows else " the same on every page"))
    for label, (tenth, heavy) in sorted(grows.items()):
        print(f"  {label:<70} {tenth} -> {heavy}")
    errors = [r for r in results if r["status"] >= 500]
    print(f"\n{len(results)} pages measured ({len({r['label'] for r in results})} addresses), "
          f"{len(slow)} above {slow_ms:g} ms, {len(errors)} errors")
    for r in errors:
        print(f"  ERROR {r['label']} {r['role']}: {r['slowest_sql']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--only", default="", help="only the pages whose label holds this")
    parser.add_argument("--slow", type=float, default=500.0, help="print pages above (ms)")
    _database.add_options(parser)
    args = parser.parse_args()

    _database.setup("bench_pages")
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client

    from bench.reporting import D
    from tests.access.world import ROLES, World, build_world

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 404s below, said apart
    started = time.perf_counter()
    old_name = _database.open_database("bench_pages", reuse=args.reuse)
    if not args.reuse:
        load_history(args)
    # One connection and one transaction for every request: the world is rolled back.
    _database.one_connection()
    outer = transaction.atomic()
    outer.__enter__()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '30s'")
        world = build_world()
        ended, running = end_stale_prescriptions(D(YEAR, 12, 31))
        heavy, tenth = two_files()
        files = {name: World(**{**world.__dict__, "patient": patient})
                 for name, patient in (("heaviest file", heavy), ("a tenth of it", tenth))}
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {settings.MASS_APP_DATABASE_ROLE}")
        clients = {}
        for role in ROLES:
            clients[role] = Client(HTTP_ACCEPT_LANGUAGE="en")
            clients[role].force_login(world.users[role])
        print(f"{ended:,} prescriptions ended (no dose in the last {RECENT_DAYS} days), "
              f"{running:,} running; the heaviest file #{heavy.pk}, a tenth of it #{tenth.pk}")
        results = [{**measure(clients[role], url), "label": label, "url": url,
                    "role": role.value if role else "no role"}
                   for label, _key, url, roles in pages(world, files)
                   if args.only in label for role in roles]
        # An address of the tests' objects with another file in it may name nothing (the
        # file has no photo; an income record of the tests' file): not a page.
        results = [r for r in results if not (r["status"] == 404 and "[" in r["label"])]
        report(results, args.slow)
        print(f"in {time.perf_counter() - started:.0f} s")
    finally:
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
        _database.close_database("bench_pages", old_name, keep=args.keep or args.reuse)


if __name__ == "__main__":
    main()
