"""The authentication backend: Django's ModelBackend with fewer queries on a page.

Most pages check a permission and read the user's roles (mass.accounts.roles: which alerts
they read, the menu). ModelBackend reads the permissions in two queries (the user's own, then
their groups'), and the roles took a third (the groups' names). Here one query reads all
three (mass.accounts.sql): the permissions, the same as ModelBackend's (a superuser holds
all), cached on the user for the request as ModelBackend caches them, and the roles with them.
"""

from django.contrib.auth.backends import ModelBackend

from mass.accounts.roles import remember_roles
from mass.accounts.sql import permission_and_group_rows


class StaffBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions, group_names = set(), []
            for app_label, name in permission_and_group_rows(
                    user_id=user_obj.pk, every_permission=user_obj.is_superuser):
                if app_label:
                    permissions.add(f"{app_label}.{name}")
                else:  # a group: no app label is empty
                    group_names.append(name)
            user_obj._perm_cache = permissions
            remember_roles(user_obj, group_names)
        return user_obj._perm_cache
