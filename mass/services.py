"""Writes on staff accounts and sites. Each is one transaction with its audit row."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import F

from mass.audit import Action, audit_record
from mass.models import Site, User


@transaction.atomic
def staff_create(*, username: str, first_name: str, last_name: str, email: str,
                 roles: list[str], password: str, language: str = "", actor) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email,
                language=language)
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    audit_record(actor=actor, action=Action.CREATE, obj=user, summary=f"staff {username}",
                 details={"roles": sorted(roles)})
    return user


@transaction.atomic
def staff_update(*, user: User, first_name: str, last_name: str, email: str,
                 roles: list[str], is_active: bool, language: str = "",
                 reception_lead: bool | None = None, actor) -> User:
    old_roles = set(user.groups.values_list("name", flat=True))
    was_lead = user.is_reception_lead
    if reception_lead is None:
        reception_lead = was_lead
    rights_changed = (old_roles != set(roles) or user.is_active != is_active
                      or was_lead != reception_lead)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.is_active, user.language = is_active, language
    fields = ["first_name", "last_name", "email", "is_active", "language"]
    if rights_changed:
        # Ends every open session of this account (see User.get_session_auth_hash).
        user.security_stamp = F("security_stamp") + 1
        fields.append("security_stamp")
    user.save(update_fields=fields)
    user.refresh_from_db(fields=["security_stamp"])
    user.groups.set(Group.objects.filter(name__in=roles))
    if reception_lead != was_lead:
        merge = Permission.objects.get(content_type__app_label="patients",
                                       codename="merge_patient")
        (user.user_permissions.add if reception_lead else user.user_permissions.remove)(merge)
    audit_record(actor=actor, action=Action.UPDATE, obj=user, summary=f"staff {user.username}",
                 details={"roles": sorted(roles), "previous_roles": sorted(old_roles),
                          "is_active": is_active, "reception_lead": reception_lead})
    return user


@transaction.atomic
def staff_set_password(*, user: User, password: str, actor) -> None:
    user.set_password(password)
    user.security_stamp = F("security_stamp") + 1
    user.save(update_fields=["password", "security_stamp"])
    user.refresh_from_db(fields=["security_stamp"])
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=f"password reset for {user.username}")


@transaction.atomic
def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@transaction.atomic
def site_save(*, site: Site, actor) -> Site:
    creating = site.pk is None
    site.save()
    audit_record(actor=actor, action=Action.CREATE if creating else Action.UPDATE, obj=site,
                 summary=f"site {site.name}")
    return site
