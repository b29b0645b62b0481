"""Benchmark of the social file: the income distribution of the yearly figures and the
caseload page, at volumes well above the MASS's (50,000 files, 150,000 income records,
20,000 social actions).

    DEMO=1 .venv/bin/python -m bench.social

Runs in a throwaway database (``bench_social``) on the same server, dropped at the end.
"""

import os
import statistics
import time


def timed(function, repeat: int = 5) -> tuple[float, object]:
    """Median wall time in milliseconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def populate(patients: int, records_per_patient: int, actions: int) -> None:
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO patients_patient (file_number, alias, last_name, first_name, sex, "
            "language, nationality, niss, phone, address, status, notes, distinguishing_note, "
            "created_at, updated_at) SELECT 'B' || lpad(i::text, 7, '0'), 'Alias ' || i, '', "
            "'', 'U', '', '', '', '', '', 'active', '', '', now(), now() "
            "FROM generate_series(1, %s) i",
            [patients])
        sources = ["pension", "salary", "sickness_benefit", "unemployment", "cpas", "none",
                   "other"]
        cursor.execute(
            "INSERT INTO social_incomerecord (patient_id, date, source, created_at, "
            "correction_reason) SELECT p.id, date '2010-01-01' + (random() * 5000)::int, "
            "(%s::text[])[1 + floor(random() * 7)::int], now(), '' "
            "FROM patients_patient p, generate_series(1, %s)",
            [sources, records_per_patient])
        cursor.execute(
            "INSERT INTO social_socialaction (type, patient_id, social_worker_id, opened_on, "
            "due_on, status, outcome, notes, created_at, updated_at) "
            "SELECT 'housing', (SELECT min(id) FROM patients_patient) + (i %% %s), "
            "(SELECT id FROM mass_user WHERE username = 'bench_sw'), "
            "current_date - 60, current_date - 30 + (i %% 90), "
            "CASE WHEN i %% 10 = 0 THEN 'open' ELSE 'in_progress' END, '', 'note', now(), now() "
            "FROM generate_series(1, %s) i", [patients, actions])
        cursor.execute("ANALYZE")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings_test")
    os.environ["TEST_DATABASE_NAME"] = "bench_social"
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from mass.models import User
        from patients.models import Patient
        from social.selectors import income_distribution

        user = User.objects.create(username="bench_sw")
        user.groups.set(Group.objects.filter(name="social_worker"))
        start = time.perf_counter()
        populate(patients=50_000, records_per_patient=3, actions=20_000)
        print(f"data: 50,000 patients, 150,000 income records, 20,000 social actions "
              f"({time.perf_counter() - start:.1f} s to load)")

        import datetime
        cohort = Patient.objects.filter(pk__in=Patient.objects.order_by("pk")
                                        .values("pk")[:25_000])
        ms, result = timed(lambda: income_distribution(
            patient_ids=cohort, as_of=datetime.date(2016, 12, 31)))
        print(f"income_distribution, 25,000 patients as of 2016-12-31: {ms:.0f} ms median "
              f"(sum {sum(result.values()):.1f} %)")
        ms, _ = timed(lambda: income_distribution(
            patient_ids=Patient.objects.all(), as_of=datetime.date(2020, 6, 30)))
        print(f"income_distribution, all 50,000 patients: {ms:.0f} ms median")

        client = Client()
        client.force_login(user)
        for url in ["/social/", "/social/team/?status=all", "/social/?type=housing&page=40"]:
            ms, response = timed(lambda url=url: client.get(url), repeat=5)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            assert response.status_code == 200, response.status_code
            print(f"GET {url}: {ms:.0f} ms median, {len(queries)} queries")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
