from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connections
from django.dispatch import receiver

from mass.accounts.roles import apply_role_permissions
from mass.audit import Action, audit_record
from mass.database.roles import grant_app_privileges
from mass.middleware import client_ip


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action=Action.LOGIN, ip_address=client_ip(request))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=Action.LOGOUT, ip_address=client_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The password is never stored: Django already masks it in ``credentials``.
    audit_record(actor=None, action=Action.LOGIN_FAILED,
                 username=str(credentials.get("username", ""))[:150],
                 ip_address=client_ip(request) if request is not None else None)


def grant_app_privileges_after_migrate(sender, using, verbosity=1, **kwargs):
    """A migration may add a table: the application's role gets its rights on it at once
    (connected from MassConfig.ready, for the mass app only: once per migrate)."""
    if role := settings.MASS_APP_DATABASE_ROLE:
        tables = grant_app_privileges(connections[using], role)
        if verbosity >= 2:
            print(f"  Rights of database role {role} renewed; append-only: {', '.join(tables)}")


def apply_roles_after_migrate(sender, using, **kwargs):
    """Each role gets exactly the permissions of mass.accounts.roles.ROLE_PERMISSIONS after every
    migrate (connected from MassConfig.ready, for the mass app only: once per migrate).

    The mass app is the first installed: Django has not yet created the permissions of the
    apps after it in this migrate, so they are created here first (it is idempotent)."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    apply_role_permissions(using=using)
