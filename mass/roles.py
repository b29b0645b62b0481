"""Staff roles. A role is a Django group of the same name; a person may hold several.

Each app grants its permissions to the roles in a data migration with :func:`grant`, so the
rights of a role are visible in the migrations of the app that defines them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("Reception")
    NURSE = "nurse", _("Nurse")
    DOCTOR = "doctor", _("Doctor")
    PSYCHIATRIST = "psychiatrist", _("Psychiatrist")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    COORDINATOR = "coordinator", _("Coordinator")


#: Roles that read clinical records of some discipline.
CLINICAL_ROLES = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
                            Role.SOCIAL_WORKER})


def user_roles(user) -> list[Role]:
    """The roles of a user, in the order of :class:`Role`, from one cached query."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_mass_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = [role for role in Role if role.value in names]
        user._mass_roles = cached
    return cached


def has_role(user, *roles: Role) -> bool:
    return any(role in user_roles(user) for role in roles)


def grant(apps, role_permissions: dict[str, list[str]]) -> None:
    """Give roles permissions, inside a data migration.

    ``role_permissions`` maps a role name to ``"app_label.codename"`` strings. Permissions are
    normally created after the migrations run; they are created here so the grant can happen
    in the migration itself.
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    labels = {perm.split(".")[0] for perms in role_permissions.values() for perm in perms}
    for label in labels:
        app_config = apps.get_app_config(label)
        if not getattr(app_config, "models_module", None):  # a migration's app registry
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, role_permissions: dict[str, list[str]]) -> None:
    """Reverse of :func:`grant`, for reversible migrations."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.remove(*Permission.objects.filter(
                content_type__app_label=app_label, codename=codename))
