from django.db import migrations

# Used to give the roles the social file's permissions; role permissions are now the one
# table mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate. Kept, empty, for the history
# of existing databases.


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0002_history_append_only"),
        ("mass", "0004_roles"),
    ]

    operations = []
