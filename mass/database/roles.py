"""PostgreSQL pieces shared by the apps' migrations, and the two database roles."""

from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, migrations, transaction

from mass.database.triggers import append_only_tables, database_kept_tables

# FORBID_CHANGE_FUNCTION, FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION, append_only() and
# AUDIT_APPEND_ONLY_FUNCTION: what the migrations written before the rules moved to the
# models' Meta.triggers (mass.database.triggers) still run; new rules are declared there.
FORBID_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# Merging two files of one person moves their records to the kept file; on a ledger that
# is the only change allowed: the row must stay identical but for its patient_id.
FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_forbid_change_except_patient() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str, *, allow_patient_reassignment: bool = False) -> migrations.RunSQL:
    """A migration operation that makes the database refuse UPDATE and DELETE on ``table``.

    Rows of such a table are history (audit trail, dispensing ledger, drug register):
    corrections are new rows. TRUNCATE stays possible for the owner (the test suite's flush);
    the application's role has no TRUNCATE (``grant_app_privileges``).
    With ``allow_patient_reassignment`` an UPDATE that changes only ``patient_id`` passes,
    so that a merge of two files can move the rows (patients.services.patient_merge).
    """
    trigger = f"{table}_append_only"
    function = ("mass_forbid_change_except_patient" if allow_patient_reassignment
                else "mass_forbid_change")
    return migrations.RunSQL(
        sql=f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )

# The audit trail is append-only too, but for one update per row: the sealer
# (mass.audit.chain) fills chain_position and chain_hash, both empty until then, and changes
# nothing else. A sealed row can never be changed again, not even its hash.
AUDIT_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.chain_position IS NULL AND OLD.chain_hash IS NULL
       AND NEW.chain_position IS NOT NULL AND NEW.chain_hash IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash')
           = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


# Two roles (docs/security.md "Two database roles"): the owner runs migrations, restores and
# imports; the application's role reads and writes rows, nothing more.

@contextmanager
def owner_connection(alias: str = "default"):
    """Within the block, ``connections[alias]`` connects as the tables' owner
    (settings.MASS_OWNER_DATABASE, from MIGRATE_DATABASE_URL); without one, unchanged."""
    owner = settings.MASS_OWNER_DATABASE
    connection = connections[alias]
    if alias != "default" or not owner or owner["USER"] == connection.settings_dict["USER"]:
        yield connection
        return
    overrides = {key: owner.get(key) for key in OWNER_KEYS}
    overrides["OPTIONS"] = owner.get("OPTIONS") or {}  # the owner's own, not the application's
    with connection_settings(connection, **overrides):
        yield connection


@contextmanager
def connection_settings(connection, **overrides):
    """Within the block, ``connection`` (closed first) connects with ``overrides`` of its
    settings: another role, another database of the server. The overrides go to a dict of
    this connection's own (``settings.DATABASES`` is the same object, read by every thread)."""
    if connection.in_atomic_block:
        raise RuntimeError("a connection's settings cannot change inside its transaction")
    original = connection.settings_dict
    connection.close()
    connection.settings_dict = {**original, **overrides}
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict = original


#: What MIGRATE_DATABASE_URL may change: the credentials, where to reach the server (a
#: pooler for the application, the server itself for migrations) and how (sslmode...); the
#: database is the same.
OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")

# The rights of the application's role, renewed after every migrate (mass.apps) and restore:
# rows of every table, the sequences, and no UPDATE or DELETE at all on the append-only tables
# but the one column change each may see (a merge moves a ledger row to the kept file; the
# sealer writes an audit row's place in the chain), and only SELECT on the tables the rules
# keep (mass.database.triggers.OwnerRule). The triggers refuse the rest anyway; the
# privileges say it a second time, and the role can neither drop nor disable the triggers
# (not the owner), nor TRUNCATE, nor set session_replication_role (not a superuser).
APP_PRIVILEGES = """
-- No TEMP tables: a temporary table named like a real one would shadow it inside the check
-- triggers (they name tables without a schema), and the application needs none; nor CREATE
-- in the schema (PUBLIC had it before PostgreSQL 15).
REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE {database} FROM {role};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role};
"""
# The append-only tables are those with an AppendOnly rule installed (mass.database.triggers: its
# triggers are all named pgtrigger_append_only_<hash>); the columns each may still UPDATE
# are in the models' declarations (mass.database.triggers.append_only_tables()).
APPEND_ONLY_TABLES = r"""
SELECT DISTINCT c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
WHERE NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger\_append\_only\_%'
"""


# And a trigger function reads the tables of the schema only, whatever the session's
# search_path (a second guard against a shadowing table).
PIN_TRIGGER_SEARCH_PATH = """
DO $$
DECLARE f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'public'
        WHERE p.prorettype = 'trigger'::regtype
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
          AND (p.proconfig IS NULL
               OR NOT 'search_path=public, pg_temp' = ANY(p.proconfig))
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = public, pg_temp', f.name);
    END LOOP;
END
$$;
"""

# What must hold once the rights are given: a GRANT or REVOKE by a role that does not own the
# table is only a warning in PostgreSQL, so a MIGRATE_DATABASE_URL naming the wrong role would
# leave earlier, broader rights in place without a word.
APP_PRIVILEGE_PROBLEMS = """
SELECT 'the application role is a superuser, may create roles or databases, or bypasses '
       'row security' FROM pg_roles
 WHERE rolname = %(role)s AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls)
UNION ALL
SELECT 'the application role owns ' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
 WHERE pg_get_userbyid(c.relowner) = %(role)s
UNION ALL
SELECT 'the application role may ' || p.privilege || ' ' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  CROSS JOIN (VALUES ('TRUNCATE'), ('TRIGGER'), ('REFERENCES')) AS p(privilege)
 WHERE c.relkind IN ('r', 'p') AND has_table_privilege(%(role)s, c.oid, p.privilege)
UNION ALL
SELECT 'the application role may ' || p.privilege || ' on the append-only ' || t.table_name
  FROM unnest(%(append_only)s::text[]) AS t(table_name)
  CROSS JOIN (VALUES ('UPDATE'), ('DELETE')) AS p(privilege)
 WHERE has_table_privilege(%(role)s, t.table_name, p.privilege)
UNION ALL
SELECT 'the application role may ' || p.privilege || ' ' || t.table_name || ', which only '
       'the database writes'
  FROM unnest(%(kept)s::text[]) AS t(table_name)
  CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE')) AS p(privilege)
 WHERE has_table_privilege(%(role)s, t.table_name, p.privilege)
UNION ALL
SELECT 'the application role may create temporary tables'
 WHERE has_database_privilege(%(role)s, current_database(), 'TEMPORARY')
UNION ALL
SELECT 'the application role may create tables in the schema'
 WHERE has_schema_privilege(%(role)s, 'public', 'CREATE')
UNION ALL
SELECT 'the application role is a member of ' || current_user
 WHERE pg_has_role(%(role)s, current_user, 'MEMBER') AND %(role)s <> current_user
"""


def grant_app_privileges(connection, role: str) -> list[str]:
    """Give ``role`` the application's rights on ``connection``'s database (as its owner),
    in one transaction, then check that it has no more; returns the append-only tables, for
    the log. Raises ImproperlyConfigured if the role still has rights it should not (the
    connection is not the tables' owner: docs/security.md, "Two database roles")."""
    with transaction.atomic(using=connection.alias):
        kept = kept_tables(connection)
        tables = _grant(connection, role, kept=kept)
        with connection.cursor() as cursor:
            cursor.execute(APP_PRIVILEGE_PROBLEMS,
                           {"role": role, "append_only": tables,
                            "kept": kept})
            problems = [problem for (problem,) in cursor.fetchall()]
    if problems:
        raise ImproperlyConfigured(
            "The database role of DATABASE_URL has rights it must not have ("
            + "; ".join(problems[:10]) + "). Run migrate as the tables' owner "
            "(MIGRATE_DATABASE_URL): docs/security.md, \"Two database roles\".")
    return sorted(tables)


def kept_tables(connection) -> list[str]:
    """The tables only the database writes (database_kept_tables) that exist in this
    database: not yet, or no longer, after a migration back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
                       [database_kept_tables()])
        return [table for (table,) in cursor.fetchall()]


def _grant(connection, role: str, *, kept: list[str]) -> list[str]:
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(APP_PRIVILEGES.format(
            role=quoted, database=connection.ops.quote_name(connection.settings_dict["NAME"])))
        cursor.execute(PIN_TRIGGER_SEARCH_PATH)
        if connection.pg_version >= 170000:  # VACUUM, ANALYZE, REFRESH, LOCK: owner's work
            cursor.execute(f"REVOKE MAINTAIN ON ALL TABLES IN SCHEMA public FROM {quoted}")
        for table in kept:  # written by the rules only (OwnerRule)
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON "
                           f"{connection.ops.quote_name(table)} FROM {quoted}")
        cursor.execute(APPEND_ONLY_TABLES)
        tables = [table for (table,) in cursor.fetchall()]
        updatable = append_only_tables()
        for table in tables:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {connection.ops.quote_name(table)} "
                           f"FROM {quoted}")
            if columns := updatable.get(table):
                cursor.execute(f"GRANT UPDATE ({', '.join(columns)}) ON "
                               f"{connection.ops.quote_name(table)} TO {quoted}")
    return tables
