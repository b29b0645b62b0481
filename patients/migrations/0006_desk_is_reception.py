from django.db import migrations

# Used to take the harm-reduction material back from nurses (the desk is reception's); role
# permissions are now the one table mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.
# Kept, empty, for the history of existing databases.


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_visit_board_index")]

    operations = []
