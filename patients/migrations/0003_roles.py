from django.db import migrations

# Used to give nurses the harm-reduction material and coordinators the merges; role
# permissions are now the one table mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.
# Kept, empty, for the history of existing databases.


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_search_merge"),
        ("mass", "0004_roles"),
    ]

    operations = []
