"""The roles' permissions are one table (mass.accounts.roles.ROLE_PERMISSIONS), applied after every
migrate: each group holds exactly its row, applying again changes nothing, and a permission
taken out of the table is taken from the group."""

import copy

import pytest
from django.contrib.auth.models import Group

from mass.accounts.roles import ROLE_PERMISSIONS, Role, apply_role_permissions


def group_permissions(role: Role) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in Group.objects.get(
        name=role.value).permissions.values_list("content_type__app_label", "codename")}


def table_permissions(table, role: Role) -> set[str]:
    return {f"{app_label}.{codename}"
            for app_label, codenames in table.get(role, {}).items() for codename in codenames}


def every_group() -> dict[str, set[str]]:
    return {role.value: group_permissions(role) for role in Role}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_the_permissions_of_its_row(db, role):
    # The test database was migrated: the post_migrate handler applied the table.
    assert group_permissions(role) == table_permissions(ROLE_PERMISSIONS, role)
    assert group_permissions(role)  # every role can do something


def test_applying_twice_changes_nothing(db):
    before = every_group()
    apply_role_permissions()
    apply_role_permissions()
    assert every_group() == before
    assert Group.objects.filter(name__in=[role.value for role in Role]).count() == len(Role)


def test_a_permission_taken_out_of_the_table_is_taken_from_the_group(db):
    table = copy.deepcopy(ROLE_PERMISSIONS)
    table[Role.NURSE]["dispensary"].remove("add_dispensation")
    assert "dispensary.add_dispensation" in group_permissions(Role.NURSE)

    apply_role_permissions(table=table)

    assert group_permissions(Role.NURSE) == (table_permissions(ROLE_PERMISSIONS, Role.NURSE)
                                             - {"dispensary.add_dispensation"})
    # The other roles keep their rows.
    assert group_permissions(Role.DOCTOR) == table_permissions(ROLE_PERMISSIONS, Role.DOCTOR)


def test_a_group_emptied_by_hand_gets_its_row_back(db):
    Group.objects.get(name=Role.COORDINATOR.value).permissions.clear()
    apply_role_permissions()
    assert group_permissions(Role.COORDINATOR) == table_permissions(ROLE_PERMISSIONS,
                                                                    Role.COORDINATOR)


def test_a_codename_no_model_defines_is_refused(db):
    before = every_group()
    table = copy.deepcopy(ROLE_PERMISSIONS)
    table[Role.RECEPTION]["patients"].append("view_patinet")
    with pytest.raises(LookupError, match="reception is given patients.view_patinet"):
        apply_role_permissions(table=table)
    assert every_group() == before
