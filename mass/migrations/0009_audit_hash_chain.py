from django.db import migrations, models

from mass.database.roles import AUDIT_APPEND_ONLY_FUNCTION

# The audit table's trigger becomes mass_audit_append_only, which allows the one update that
# seals a row into the hash chain (mass.audit.chain). Rows written before are sealed by the
# first `manage.py seal_audit`.
REPLACE_TRIGGER = """
DROP TRIGGER IF EXISTS mass_auditevent_append_only ON mass_auditevent;
CREATE TRIGGER mass_auditevent_append_only BEFORE UPDATE OR DELETE ON mass_auditevent
    FOR EACH ROW EXECUTE FUNCTION mass_audit_append_only();
"""
RESTORE_TRIGGER = """
DROP TRIGGER IF EXISTS mass_auditevent_append_only ON mass_auditevent;
CREATE TRIGGER mass_auditevent_append_only BEFORE UPDATE OR DELETE ON mass_auditevent
    FOR EACH ROW EXECUTE FUNCTION mass_forbid_change();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("mass", "0008_audit_details_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True,
                                   verbose_name="chain hash"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_position",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True,
                                         verbose_name="chain position"),
        ),
        migrations.RunSQL(AUDIT_APPEND_ONLY_FUNCTION,
                          "DROP FUNCTION IF EXISTS mass_audit_append_only() CASCADE;"),
        migrations.RunSQL(REPLACE_TRIGGER, RESTORE_TRIGGER),
    ]
