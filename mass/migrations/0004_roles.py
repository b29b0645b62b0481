from django.db import migrations

# This migration used to create the role groups and give them the foundation's permissions.
# The roles and all their permissions are now the one table mass.accounts.roles.ROLE_PERMISSIONS,
# applied after every migrate (mass.signals.apply_roles_after_migrate). The migration stays,
# empty, so the history of existing databases and the dependencies on it hold.


class Migration(migrations.Migration):
    dependencies = [
        ("mass", "0003_database_setup"),
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = []
