"""Benchmark of today's dispensing list with 300 patients on substitution and ten years of
daily dispensing (about 1.1 million ledger entries and as many register entries).

    DEMO=1 .venv/bin/python -m bench dispensary [--patients 300] [--years 10] [--repeat 30]

Runs in a throwaway database (``bench_dispensary``) on the same PostgreSQL server, dropped at
the end. The data is written with INSERT ... SELECT (generate_series), the ledger's insert
triggers switched off during the load only (the data is consistent by construction: one dose a
day, Sunday's dose handed on Saturday, about 7 % of days missed, 10 % of patients on a split
dose; 10 patients are held today, a third of the patients were dispensed today already; each
patient has an episode open since the first prescription, whose last contact the 6-month rule's
triggers keep: refreshed once after the load, then by each dose given; one patient in four has
an active alert on the row, every patient an ended one).

Printed: server time of GET /dispensary/ against two trivial views served by the same
Django (the health check, and the signed-in start page: same middleware, session and base
template), as medians over ``--repeat`` requests through the WSGI handler, their ratio (goal:
within 5x of the trivial view), the number of queries with all patients and with a search
matching one (must be equal), and for information the patient's dispensing record (ten
years of history), the monthly register and, last (it writes), a dose given with one click
from the list (the row and the counts above the list, as htmx swaps them).
"""

import argparse
import datetime
import statistics
import time

from bench import _database


def timed(function, repeat: int) -> tuple[float, float, object]:
    """Median and 95th percentile wall time in milliseconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(len(times) * 0.95) - 1)], result


def populate(*, patients: int, years: int, nurse_id: int, doctor_id: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from dispensary.models import Product
    from patients.models import Patient

    today = timezone.localdate()
    Patient.objects.bulk_create([Patient(file_number=f"D{i:06d}", alias=f"Bench {i:03d}")
                                 for i in range(1, patients + 1)])
    methadone = Product.objects.get(name="Methadone syrup 1 mg/ml").pk
    buprenorphine = Product.objects.get(name="Buprenorphine sublingual tablets").pk
    period = 180
    changes = years * 365 // period
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE dispensary_dispensation DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE dispensary_registerentry DISABLE TRIGGER USER")
        # A prescription every 180 days per patient (a dose change), the last one running.
        cursor.execute("""
            WITH p AS (SELECT id, row_number() OVER (ORDER BY id) AS rn
                         FROM patients_patient WHERE file_number LIKE 'D%%')
            INSERT INTO dispensary_prescription
                (patient_id, product_id, daily_dose, evening_dose, start_date, end_date,
                 take_home_weekdays, pharmacy_id, instructions, replaces_id,
                 course_started_on, end_reason, prescribed_by_id, created_at, ended_by_id)
            SELECT p.id, CASE WHEN p.rn %% 5 = 0 THEN %(bup)s ELSE %(meth)s END,
                   d.dose, CASE WHEN p.rn %% 10 = 3 THEN floor(d.dose / 3) ELSE 0 END,
                   %(start)s::date + %(period)s * k,
                   CASE WHEN k = %(changes)s THEN NULL
                        ELSE %(start)s::date + %(period)s * k + %(period)s - 1 END,
                   '{6}', NULL, '', NULL, %(start)s::date, '', %(doctor)s, now(), NULL
              FROM p CROSS JOIN generate_series(0, %(changes)s) AS k
              CROSS JOIN LATERAL (SELECT CASE WHEN p.rn %% 5 = 0
                                              THEN 4 + ((p.rn + k) %% 6) * 2
                                              ELSE 40 + ((p.rn * 7 + k * 10) %% 80) END
                                         AS dose) AS d
        """, {"bup": buprenorphine, "meth": methadone,
              "start": today - datetime.timedelta(days=period * changes + 150),
              "period": period, "changes": changes, "doctor": doctor_id})
        # One entry per day and dose part; Sunday's dose handed on Saturday (take-home);
        # ~7 % of days missed (Saturday missed: Sunday not handed either); 10 patients held
        # (nothing for the last 5 days); a third dispensed today already.
        cursor.execute("""
            WITH p AS (SELECT id, row_number() OVER (ORDER BY id) AS rn
                         FROM patients_patient WHERE file_number LIKE 'D%%'),
            days AS (
                SELECT rx.id AS rx_id, rx.patient_id, rx.product_id, rx.daily_dose,
                       rx.evening_dose, p.rn, g.d::date AS dose_date,
                       CASE WHEN extract(isodow FROM g.d) = 7 THEN g.d::date - 1
                            ELSE g.d::date END AS handed
                  FROM dispensary_prescription rx JOIN p ON p.id = rx.patient_id
                 CROSS JOIN LATERAL generate_series(
                       rx.start_date, LEAST(COALESCE(rx.end_date, %(today)s::date),
                                            %(today)s::date), interval '1 day') AS g(d))
            INSERT INTO dispensary_dispensation
                (patient_id, prescription_id, product_id, date, dose_date, part, status,
                 quantity, intoxication_signs, observations, withheld_reason, replaces_id,
                 review_id, dispensed_at, dispensed_by_id)
            SELECT days.patient_id, days.rx_id, days.product_id, days.handed, days.dose_date,
                   part, 'given',
                   CASE part WHEN 'day' THEN days.daily_dose
                             WHEN 'morning' THEN days.daily_dose - days.evening_dose
                             ELSE days.evening_dose END,
                   false, '', '', NULL, NULL,
                   (days.handed + time '09:00'
                    + (abs(hashtext(days.patient_id || ':' || days.handed)) %% 540)
                      * interval '1 minute'
                    + CASE part WHEN 'evening' THEN interval '8 hours' ELSE interval '0' END)
                   AT TIME ZONE %(tz)s,
                   %(nurse)s
              FROM days CROSS JOIN LATERAL unnest(
                   CASE WHEN days.evening_dose > 0 THEN ARRAY['morning', 'evening']
                        ELSE ARRAY['day'] END) AS part
             WHERE abs(hashtext(days.patient_id || '/' || days.handed)) %% 100 >= 7
               AND NOT (days.rn %% 30 = 1 AND days.dose_date >= %(today)s::date - 5)
               AND (days.dose_date < %(today)s::date
                    OR (days.rn %% 3 = 0 AND days.handed = %(today)s::date))
        """, {"today": today, "tz": str(timezone.get_current_timezone()), "nurse": nurse_id})
        dispensations = cursor.rowcount
        # The register: a receipt on the first of each month for the month's needs, then
        # every dose, with its running balance.
        cursor.execute("""
            WITH given AS (
                SELECT id, product_id, date, quantity, dispensed_at
                  FROM dispensary_dispensation WHERE status = 'given'),
            receipts AS (
                SELECT product_id, date_trunc('month', date)::date AS date,
                       (ceil(sum(quantity) * 1.1 / 1000) + 1) * 1000 AS quantity
                  FROM given GROUP BY 1, 2),
            events AS (
                SELECT product_id, date, 0 AS ord, quantity, NULL::bigint AS dispensation_id,
                       (date + time '08:00') AT TIME ZONE %(tz)s AS at, 'receipt' AS kind
                  FROM receipts
                UNION ALL
                SELECT product_id, date, 1, -quantity, id, dispensed_at, 'dispensed'
                  FROM given)
            INSERT INTO dispensary_registerentry
                (product_id, sequence, kind, date, quantity, balance_after, supplier, batch,
                 received_on, counted, reason_code, note, dispensation_id, corrects_id,
                 recorded_at, recorded_by_id)
            SELECT product_id,
                   row_number() OVER w, kind, date, quantity, sum(quantity) OVER w,
                   CASE WHEN kind = 'receipt' THEN 'Febelco' ELSE '' END,
                   CASE WHEN kind = 'receipt' THEN 'L' || to_char(date, 'YYMM') ELSE '' END,
                   CASE WHEN kind = 'receipt' THEN date END, NULL, '', '', dispensation_id,
                   NULL, at, %(nurse)s
              FROM events
            WINDOW w AS (PARTITION BY product_id ORDER BY date, ord, at, dispensation_id
                         ROWS UNBOUNDED PRECEDING)
        """, {"tz": str(timezone.get_current_timezone()), "nurse": nurse_id})
        register = cursor.rowcount
        # Identification (issue 12, part 2): half the patients with a photo (the list reads
        # only that one exists: no file needed), the others told apart by birth year, sex and
        # a distinguishing feature; a walk-in every few days (the row's "last visit"), before the
        # episodes exist, so that the 6-month rule's triggers have nothing to refresh.
        cursor.execute("""
            UPDATE patients_patient SET birth_year = %(born)s + id %% 40,
                   sex = CASE WHEN id %% 3 = 0 THEN 'F' ELSE 'M' END,
                   distinguishing_note = CASE WHEN id %% 4 = 1 THEN 'tattoo left hand'
                                              ELSE '' END
             WHERE file_number LIKE 'D%%'""", {"born": 1960})
        cursor.execute("""
            INSERT INTO patients_patientphoto (patient_id, token, source, taken_at,
                                               taken_by_id)
            SELECT id, md5(id::text), 'camera', now(), %(nurse)s FROM patients_patient
             WHERE file_number LIKE 'D%%' AND id %% 2 = 0""", {"nurse": nurse_id})
        cursor.execute("""
            INSERT INTO patients_visit (patient_id, date, purpose, note, created_at)
            SELECT p.id, %(today)s::date - k, 'dispensing', '', now()
              FROM patients_patient p CROSS JOIN generate_series(1, 60, 3) AS k
             WHERE p.file_number LIKE 'D%%'""", {"today": today})
        # Each patient in treatment since the first prescription: an episode, open.
        cursor.execute("""
            INSERT INTO patients_episode (patient_id, opened_on, kind, closed_on,
                                          closure_reason, closure_note, created_at)
            SELECT patient_id, min(start_date), 'new', NULL, '', '', now()
              FROM dispensary_prescription GROUP BY patient_id""")
        cursor.execute("ALTER TABLE dispensary_dispensation ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE dispensary_registerentry ENABLE TRIGGER USER")
        # The load bypassed the triggers of the 6-month rule (patients/migrations/0008) too:
        # each episode's last contact and lapse, as they would have been kept.
        started = time.perf_counter()
        cursor.execute("SELECT patients_episode_refresh("
                       "ARRAY(SELECT DISTINCT patient_id FROM patients_episode))")
        refresh_seconds = time.perf_counter() - started
        # Alerts (issue 12): an active one on one patient in four (an allergy, an interaction
        # or behaviour, shown on the row), and an ended one on every patient (the history the
        # list must not read). None stops the dose: the bench gives one with one click.
        cursor.execute("""
            INSERT INTO alerts_alert (patient_id, kind, text, recorded_at, recorded_by_id,
                                      ended_at, ended_by_id, end_reason)
            SELECT id, (ARRAY['allergy', 'interaction', 'behaviour'])[id %% 3 + 1],
                   'Bench alert ' || id, now() - interval '30 days', %(doctor)s,
                   NULL, NULL, ''
              FROM patients_patient WHERE id %% 4 = 0
            UNION ALL
            SELECT id, 'pregnancy', 'Ended bench alert ' || id, now() - interval '400 days',
                   %(doctor)s, now() - interval '100 days', %(doctor)s, 'Over'
              FROM patients_patient""", {"doctor": doctor_id})
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM dispensary_prescription")
        prescriptions = cursor.fetchone()[0]
        cursor.execute("SELECT min(balance_after) FROM dispensary_registerentry")
        lowest = cursor.fetchone()[0]
    return {"dispensations": dispensations, "register": register,
            "prescriptions": prescriptions, "lowest_balance": lowest,
            "refresh_seconds": refresh_seconds}


def one_click_doses(client, states, repeat: int) -> None:
    """A dose given with one click (htmx): the row and the counts above the list, read from
    the whole list (last, as it writes: each to a patient still due)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    due = [state.prescription for state in states if state.desk_state == "due"
           and state.next_part() is not None][:repeat]
    times, queries_per_click = [], set()
    for rx in due:
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                f"/dispensary/prescriptions/{rx.pk}/dispense/",
                {"part": rx.parts()[0], "intoxication": "none", "action": "give",
                 "hand_take_home": "on", "next": "/dispensary/"},
                HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/dispensary/")
        times.append((time.perf_counter() - began) * 1000)
        queries_per_click.add(len(queries))
        assert response.status_code == 200 and b"hx-swap-oob" in response.content, rx.pk
    if times:
        print(f"POST one-click dose (htmx: row + counts)        "
              f"{statistics.median(times):7.1f} ms median over {len(times)} doses, "
              f"{sorted(queries_per_click)} queries")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dispensary")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    _database.add_options(parser)
    args = parser.parse_args()

    _database.setup("bench_dispensary")
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    settings.DEBUG = False
    old_name = _database.open_database("bench_dispensary", reuse=args.reuse)
    # As in production (DATABASE_URL): connections are kept between requests.
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        from dispensary import selectors
        from dispensary.models import Product
        from mass.models import User
        from patients.models import Patient

        if args.reuse:
            nurse = User.objects.get(username="bench_nurse")
        else:
            nurse = User.objects.create(username="bench_nurse", first_name="Nadia")
            nurse.groups.set(Group.objects.filter(name="nurse"))
            doctor = User.objects.create(username="bench_doctor")
            doctor.groups.set(Group.objects.filter(name="doctor"))
            start = time.perf_counter()
            counts = populate(patients=args.patients, years=args.years, nurse_id=nurse.pk,
                              doctor_id=doctor.pk)
            print(f"data: {args.patients} patients on substitution over {args.years} years: "
                  f"{counts['prescriptions']:,} prescriptions, {counts['dispensations']:,} "
                  f"dispensations, {counts['register']:,} register entries "
                  f"(lowest balance {counts['lowest_balance']}); loaded in "
                  f"{time.perf_counter() - start:.0f} s, of which "
                  f"{counts['refresh_seconds']:.1f} s for the 6-month rule's refresh of "
                  f"every episode")

        states = selectors.dispensing_list()
        by_state = {}
        for state in states:
            by_state[state.desk_state] = by_state.get(state.desk_state, 0) + 1
        print(f"today's list: {len(states)} rows {by_state}")

        client = Client()
        client.force_login(nurse)
        first = Patient.objects.filter(file_number="D000001").get()

        def get(url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        results = {}
        today = timezone.localdate()
        methadone = Product.objects.get(name="Methadone syrup 1 mg/ml")
        urls = [("trivial: health check", "/healthz"),
                ("trivial: signed-in start page", "/"),
                ("dispensing list", "/dispensary/"),
                ("dispensing list, search matching 1", "/dispensary/?q=Bench%20001"),
                ("patient dispensing record", f"/dispensary/patients/{first.pk}/"),
                ("monthly register (per day)",
                 f"/dispensary/register/{methadone.pk}/{today.year}/{today.month}/"),
                ("monthly register (every dose)",
                 f"/dispensary/register/{methadone.pk}/{today.year}/{today.month}/?detail=1")]
        for _label, url in urls:
            for _ in range(3):  # warm up: template cache, connection
                get(url)
        # Round robin: the pages are timed turn by turn, so that the load of a shared machine
        # weighs on all of them alike and their ratio stays meaningful.
        samples = {label: [] for label, _url in urls}
        sizes = {}
        for _ in range(args.repeat):
            for label, url in urls:
                began = time.perf_counter()
                sizes[label] = len(get(url).content)
                samples[label].append((time.perf_counter() - began) * 1000)
        for label, url in urls:
            with CaptureQueriesContext(connection) as queries:
                get(url)
            times = sorted(samples[label])
            median = statistics.median(times)
            p95 = times[max(0, round(len(times) * 0.95) - 1)]
            results[label] = (median, p95, len(queries), sizes[label])
            print(f"GET {url:<46} {median:7.1f} ms median {p95:7.1f} ms p95 "
                  f"{len(queries):3d} queries {sizes[label] / 1024:7.0f} KiB  ({label})")
        list_ms = results["dispensing list"][0]
        for trivial in ("trivial: signed-in start page", "trivial: health check"):
            print(f"ratio dispensing list / {trivial.split(': ')[1]}: "
                  f"{list_ms / results[trivial][0]:.1f}x")
        same = results["dispensing list"][2] == \
            results["dispensing list, search matching 1"][2]
        print(f"queries: {results['dispensing list'][2]} with {len(states)} patients, "
              f"{results['dispensing list, search matching 1'][2]} with 1: "
              f"{'constant' if same else 'NOT CONSTANT'}")
        median, _, _ = timed(lambda: selectors.dose_states(today=today), args.repeat)
        print(f"selectors.dose_states (the list's six queries and the rules): "
              f"{median:.1f} ms median")
        one_click_doses(client, states, args.repeat)

        def refresh_one():
            with connection.cursor() as cursor:
                cursor.execute("SELECT patients_episode_refresh(ARRAY[%s]::bigint[])",
                               [first.pk])
        median, p95, _ = timed(refresh_one, args.repeat)
        print(f"of which the 6-month rule's trigger (patients_episode_refresh of one patient "
              f"with {args.years} years of daily doses): {median:.1f} ms median, "
              f"{p95:.1f} ms p95")
    finally:
        _database.close_database("bench_dispensary", old_name, keep=args.keep or args.reuse)


if __name__ == "__main__":
    main()
