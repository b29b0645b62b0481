"""PostgreSQL pieces shared by the apps' migrations, and the two database roles."""

from contextlib import contextmanager

from django.conf import settings
from django.db import connections, migrations

from mass.triggers import append_only_tables

# FORBID_CHANGE_FUNCTION, FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION, append_only() and
# AUDIT_APPEND_ONLY_FUNCTION: what the migrations written before the rules moved to the
# models' Meta.triggers (mass.triggers) still run; new rules are declared there.
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
# (mass.audit_chain) fills chain_position and chain_hash, both empty until then, and changes
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
    if connection.in_atomic_block:
        raise RuntimeError("owner_connection() inside a transaction of the application's role")
    saved = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in OWNER_KEYS})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)


#: What MIGRATE_DATABASE_URL may change: the credentials and where to reach the server (a
#: pooler for the application, the server itself for migrations); the database is the same.
OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")

# The rights of the application's role, renewed after every migrate (mass.apps) and restore:
# rows of every table, the sequences, and no UPDATE or DELETE at all on the append-only tables
# but the one column change each may see (a merge moves a ledger row to the kept file; the
# sealer writes an audit row's place in the chain). The triggers refuse the rest anyway; the
# privileges say it a second time, and the role can neither drop nor disable the triggers
# (not the owner), nor TRUNCATE, nor set session_replication_role (not a superuser).
APP_PRIVILEGES = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {role};
"""
# The append-only tables are those with an AppendOnly rule installed (mass.triggers: its
# triggers are all named pgtrigger_append_only_<hash>); the columns each may still UPDATE
# are in the models' declarations (mass.triggers.append_only_tables()).
APPEND_ONLY_TABLES = r"""
SELECT DISTINCT c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
WHERE NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger\_append\_only\_%'
"""


def grant_app_privileges(connection, role: str) -> list[str]:
    """Give ``role`` the application's rights on ``connection``'s database (as its owner);
    returns the append-only tables, for the log."""
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(APP_PRIVILEGES.format(role=quoted))
        if connection.pg_version >= 170000:  # VACUUM, ANALYZE, REFRESH, LOCK: owner's work
            cursor.execute(f"REVOKE MAINTAIN ON ALL TABLES IN SCHEMA public FROM {quoted}")
        cursor.execute(APPEND_ONLY_TABLES)
        tables = [table for (table,) in cursor.fetchall()]
        updatable = append_only_tables()
        for table in tables:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {connection.ops.quote_name(table)} "
                           f"FROM {quoted}")
            if columns := updatable.get(table):
                cursor.execute(f"GRANT UPDATE ({', '.join(columns)}) ON "
                               f"{connection.ops.quote_name(table)} TO {quoted}")
    return sorted(tables)
