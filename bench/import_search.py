"""Benchmark of the reception issue: history import, patient search and the walk-in board at
ten times the volumes of seed 000 over a decade (about 60,000 files, 1.4 million walk-ins).

    DEMO=1 .venv/bin/python -m bench import_search [--scale 10] [--years 10] [--requests 200]

Runs in a throwaway database (``bench_import_search``) on the same PostgreSQL server,
dropped at the end. Steps and what is printed:

1. Generate the decade (patients.demo.generate, every year new people, so the files add up
   to ~60,000 at scale 10) and write it as the CSV files of ``import_records``.
2. Plain COPY: the same rows, already in the tables' own layout (patient ids resolved), with
   ``COPY ... FROM STDIN`` into the same tables (same indexes, constraints and triggers), in a
   transaction that is rolled back. This is the floor: PostgreSQL loading rows and nothing
   else.
3. ``import_records`` on the CSV files, for real: rows per second next to the plain COPY;
   the ratio is the figure (goal: within 3x).
4. Server time (Django test client in this process: middleware, session, view, template) of
   the patient search (as typed at the desk: aliases, misspelt names, file numbers, birth
   years), the reception board with today's walk-ins (a whole day's, up to closing time,
   whatever the hour the bench runs at), and a trivial view (a login-protected
   ``HttpResponse("ok")`` through the same middleware): median and 95th percentile, the
   ratio to the trivial view (goal: within 5x) and the number of queries of each page.
"""

import argparse
import csv
import datetime
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

urlpatterns: list = []  # filled in main(): this module is the URLconf during the run


def trivial(request):
    from django.http import HttpResponse
    return HttpResponse("ok")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def time_requests(client, urls, *, headers=None) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url, **(headers or {}))
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def query_counts(client, urls, *, headers=None) -> set[int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    counts = set()
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url, **(headers or {}))
        counts.add(len(queries))
    return counts


def write_csv_files(data, directory: Path, site_names: list[str]) -> dict[str, int]:
    counts = {}
    with (directory / "patients.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_number", "alias", "last_name", "first_name", "birth_date",
                         "sex", "language"])
        for number, alias, last, first, birth_date, birth_year, sex, language, *_ in \
                data.patients:
            birth = birth_date.isoformat() if birth_date else (birth_year or "")
            writer.writerow([number, alias, last, first, birth, sex, language])
        counts["patients"] = len(data.patients)
    with (directory / "episodes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_number", "opened_on", "kind", "closed_on", "closure_reason"])
        for person, opened, kind, closed, reason in data.episodes:
            writer.writerow([data.patients[person][0], opened, kind, closed or "", reason])
        counts["episodes"] = len(data.episodes)
    with (directory / "visits.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_number", "date", "time", "site"])
        numbers = [row[0] for row in data.patients]
        for person, day, moment, site, _purpose in data.visits:
            writer.writerow([numbers[person], day, moment.strftime("%H:%M"),
                             site_names[0] if site is None else site_names[1 + site]])
        counts["visits"] = len(data.visits)
    return counts


def table_layout(data, site_ids: list[int], first_id: int) -> dict[str, tuple[str, bytes]]:
    """The same rows in the tables' own columns, as COPY text, patient ids already known."""
    now = "2026-01-01 00:00:00+00"

    def text(rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([r"\N" if v is None else v for v in row] for row in rows)
        return buffer.getvalue().encode()

    patients = text(
        (first_id + i, number, alias, last, first, birth_date, birth_year, sex,
         language, "", "", "", "", "active", "", "", now, now)
        for i, (number, alias, last, first, birth_date, birth_year, sex, language, *_)
        in enumerate(data.patients))
    episodes = text((first_id + person, opened, kind, closed, reason, "", now)
                    for person, opened, kind, closed, reason in
                    sorted(data.episodes, key=lambda e: e[3] is None))
    visits = text((first_id + person, site_ids[0] if site is None else site_ids[1 + site], day,
                   moment, "other", "", now)
                  for person, day, moment, site, _purpose in data.visits)
    return {
        "patients_patient (id, file_number, alias, last_name, first_name, birth_date, "
        "birth_year, sex, language, nationality, niss, phone, address, status, notes, "
        "distinguishing_note, created_at, updated_at)": ("patients", patients),
        "patients_episode (patient_id, opened_on, kind, closed_on, closure_reason, "
        "closure_note, created_at)": ("episodes", episodes),
        "patients_visit (patient_id, site_id, date, time, purpose, note, created_at)":
            ("visits", visits),
    }


def plain_copy(layout) -> float:
    """Seconds PostgreSQL takes to COPY the rows into the real tables (then rolled back)."""
    from django.db import connection, transaction

    class Rollback(Exception):
        pass

    start = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for target, (_name, payload) in layout.items():
                with cursor.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                    view = memoryview(payload)
                    for offset in range(0, len(view), 1 << 20):
                        copy.write(view[offset: offset + (1 << 20)])
            # Django's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED):
            # check them now, as the import's commit does, before rolling back.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = time.perf_counter() - start
            raise Rollback
    except Rollback:
        pass
    return elapsed


def search_queries(data, rng, count: int) -> list[str]:
    """What the desk types: aliases, surnames with one letter wrong, names without accents,
    file numbers, birth years with an alias."""
    import unicodedata

    def plain(text):
        return "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))

    def misspell(word):
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + rng.choice("aeiouny") + word[i + 1:]

    queries = []
    while len(queries) < count:
        number, alias, last, first, birth_date, birth_year, *_ = rng.choice(data.patients)
        kind = len(queries) % 5
        if kind == 0:
            queries.append(alias)
        elif kind == 1 and last:
            queries.append(misspell(last).lower())
        elif kind == 2 and last:
            queries.append(plain(f"{first} {last}"))
        elif kind == 3:
            queries.append(number)
        elif kind == 4 and birth_year:
            queries.append(f"{alias.split()[0]} {birth_year}")
    return queries


# Complexity 16, kept: the benchmark's script, step after step as its docstring lists them.
def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench import_search")
    parser.add_argument("--scale", type=float, default=10.0,
                        help="times the seed-000 volumes (default 10)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200,
                        help="timed requests per page (default 200)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database bench_import_search afterwards (to explain "
                             "queries); it is dropped by the next run")
    options = parser.parse_args(sys.argv[1:])

    os.environ.setdefault("DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings_test")
    os.environ["TEST_DATABASE_NAME"] = "bench_import_search"
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.urls import clear_url_caches, include, path, set_urlconf
    from django.utils import timezone

    from patients import demo
    from patients.importer import import_records

    urlpatterns[:] = [path("bench/trivial/", trivial), path("", include("mass.config.urls"))]
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["*"]
    clear_url_caches()
    set_urlconf(None)

    print(f"bench import_search: scale {options.scale:g}, {options.years} years "
          f"(PostgreSQL {connection.cursor().connection.info.server_version // 10000}, "
          f"{os.cpu_count()} cores)")
    started = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database created and migrated in {time.perf_counter() - started:.1f} s")
    try:
        from mass.models import Site, User
        centre = Site.objects.get(name="MASS Woeringen")
        outreach = list(Site.objects.exclude(pk=centre.pk).order_by("name"))
        today = timezone.localdate()
        start = datetime.date(today.year - options.years, today.month, 1)

        step = time.perf_counter()
        # Today's walk-ins up to closing time, whatever the hour the bench runs at: the board
        # shows a whole day's, not an empty one before opening or half a day at noon.
        closing = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0)
        data = demo.generate(start=start, end=today, scale=options.scale, returning_share=0.0,
                             outreach_sites=len(outreach), now=closing,
                             open_on=today, prefix="H")
        print(f"generated {len(data.patients):,} patients, {len(data.episodes):,} episodes, "
              f"{len(data.visits):,} walk-ins in {time.perf_counter() - step:.1f} s")

        with tempfile.TemporaryDirectory() as directory:
            directory = Path(directory)
            step = time.perf_counter()
            counts = write_csv_files(data, directory, [centre.name] + [s.name for s in outreach])
            layout = table_layout(data, [centre.pk] + [s.pk for s in outreach], 50_000_000)
            rows = sum(counts.values())
            print(f"CSV files and COPY payload written in {time.perf_counter() - step:.1f} s "
                  f"({rows:,} rows)")

            copy_seconds = plain_copy(layout)
            step = time.perf_counter()
            result = import_records(directory)  # commits, which checks the foreign keys
            import_seconds = time.perf_counter() - step
            assert sum(result.counts.values()) == rows, result.counts
        print()
        print("Import")
        print(f"  plain COPY of the same rows:  {copy_seconds:7.1f} s  "
              f"{rows / copy_seconds:>10,.0f} rows/s")
        print(f"  import_records:               {import_seconds:7.1f} s  "
              f"{rows / import_seconds:>10,.0f} rows/s")
        print(f"  ratio import / plain COPY:    {import_seconds / copy_seconds:7.2f}x  "
              f"(goal: 3x or less)")
        for step_name, seconds in result.timings.items():
            print(f"    {step_name:40} {seconds:6.1f} s")

        user = User.objects.create(username="bench_reception")
        user.groups.set(Group.objects.filter(name="reception"))
        client = Client()
        client.force_login(user)
        rng = random.Random(1)
        searches = search_queries(data, rng, options.requests)
        from urllib.parse import quote
        search_urls = [f"/patients/?q={quote(q)}" for q in searches]
        htmx = {"HTTP_HX_REQUEST": "true"}
        today_visits = sum(1 for v in data.visits if v[1] == today)

        # warm up: connections, templates, caches
        time_requests(client, ["/bench/trivial/"] * 20 + search_urls[:20] + ["/reception/"] * 5,
                      headers=None)
        pages = [
            ("trivial view", ["/bench/trivial/"] * options.requests, None),
            ("patient search (htmx)", search_urls, htmx),
            ("reception board", ["/reception/"] * options.requests, None),
            ("board search (htmx)", [u.replace("/patients/", "/reception/search/")
                                     for u in search_urls], htmx),
        ]
        print()
        print(f"Server time ({today_visits} walk-ins today on the board, "
              f"{len(data.patients):,} files searched; the pages take turns, so that they "
              f"share the machine's load alike)")
        times: dict[str, list[float]] = {label: [] for label, _urls, _headers in pages}
        for i in range(options.requests):
            for label, urls, headers in pages:
                times[label] += time_requests(client, [urls[i]], headers=headers)
        baseline = statistics.median(times["trivial view"])
        for label, urls, headers in pages:
            median, p95 = statistics.median(times[label]), percentile(times[label], 0.95)
            counts = sorted(query_counts(client, urls[:30], headers=headers))
            ratio = "" if label == "trivial view" else f"  {median / baseline:5.1f}x trivial"
            print(f"  {label:24} median {median:6.1f} ms  p95 {p95:6.1f} ms{ratio}  "
                  f"queries {'/'.join(map(str, counts))}")
        print("  (goal: search and board within 5x of the trivial view, a constant query count)")
        examples = ", ".join(repr(q) for q in searches[:5])
        print(f"  search examples: {examples}")
    finally:
        if options.keep:
            print("database bench_import_search kept")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
