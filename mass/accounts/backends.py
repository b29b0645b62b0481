"""The authentication backend: Django's ModelBackend with two round trips fewer on a page.

Most pages check a permission and read the user's roles (mass.accounts.roles: which alerts
they read, the menu). ModelBackend reads the permissions in two queries (the user's own, then
their groups'), and the roles took a third (the groups' names). Here one query reads all
three: the permissions, the same as ModelBackend's (a superuser holds all), cached on the user
for the request as ModelBackend caches them, and the roles with them.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, Value

from mass.accounts.roles import remember_roles

#: Marks the rows of the query that are group names, not permissions (no app label is empty).
_GROUP = ""


class StaffBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            groups = Group.objects.filter(user=user_obj).values_list(Value(_GROUP), "name")
            rows = (permissions.values_list("content_type__app_label", "codename")
                    .union(groups, all=True).order_by())
            user_obj._perm_cache = set()
            group_names = []
            for app_label, name in rows:
                if app_label == _GROUP:
                    group_names.append(name)
                else:
                    user_obj._perm_cache.add(f"{app_label}.{name}")
            remember_roles(user_obj, group_names)
        return user_obj._perm_cache
