from django.db import migrations

from mass.database.roles import append_only

# The situation history and the journal of actions are never changed or deleted: a mistake is
# corrected by a new row (``corrects``, with a reason). A merge of two files may still move
# the rows to the kept file.
HISTORY_TABLES = [
    "social_incomerecord", "social_insurancerecord", "social_cpasrecord", "social_housingrecord",
    "social_identityrecord", "social_addressrecord", "social_socialactionupdate",
]


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
        ("mass", "0003_database_setup"),
    ]

    operations = [append_only(table, allow_patient_reassignment=True) for table in HISTORY_TABLES]
