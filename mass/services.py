"""Writes on staff accounts and sites. Each is one transaction with its audit row; a refusal
is a ``ValidationError`` with the sentence for the user, nothing written (mass.refusals)."""


from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.accounts.roles import CLINICAL_ROLES
from mass.audit import Action, audit_record
from mass.models import RoleGrant, User


@transaction.atomic
def staff_create(*, username: str, first_name: str, last_name: str, email: str,
                 roles: list[str], password: str, language: str = "",
                 must_change_password: bool = True, second_person: bool = True,
                 actor) -> User:
    """A new account. Its password was chosen by someone else (the coordinator): the member
    changes it at the first login, unless they typed it themselves (``create_staff``).

    A clinical role asked for waits for a second person (:func:`role_grant_decide`); the
    other roles are given at once. ``second_person=False`` is for ``create_staff`` only,
    typed at the server by whoever runs it (the first coordinator has no one to ask)."""
    user = User(username=username, first_name=first_name, last_name=last_name, email=email,
                language=language, must_change_password=must_change_password)
    user.set_password(password)
    user.save()
    given = [role for role in roles if not second_person or role not in CLINICAL_ROLES]
    user.groups.set(Group.objects.filter(name__in=given))
    audit_record(actor=actor, action=Action.CREATE, obj=user,
                 summary=gettext_noop("staff %(username)s"), params={"username": username},
                 details={"roles": sorted(given)})
    _role_grants_request(user=user, roles=set(roles) - set(given), actor=actor)
    return user


def _role_grants_request(*, user: User, roles, actor) -> list[RoleGrant]:
    """Ask for clinical roles for ``user``, each written and audited; a role already asked
    for and not yet decided is not asked twice."""
    grants = []
    for role in sorted(roles):
        if RoleGrant.objects.filter(user=user, role=role, decided_at__isnull=True).exists():
            continue
        grant = RoleGrant.objects.create(user=user, role=role, requested_by=actor)
        audit_record(actor=actor, action=Action.CREATE, obj=grant,
                     summary=gettext_noop("role %(role)s requested for %(username)s"),
                     params={"role": role, "username": user.username},
                     details={"role": role, "account": user.pk})
        grants.append(grant)
    return grants


@transaction.atomic
def staff_update(*, user: User, first_name: str, last_name: str, email: str,
                 roles: list[str], is_active: bool, language: str = "",
                 reception_lead: bool | None = None, actor) -> User:
    """Save an account. Roles taken away go at once (least privilege); a clinical role added
    waits for a second person (:func:`role_grant_decide`), the others are given at once."""
    old_roles = set(user.groups.values_list("name", flat=True))
    asked = set(roles) - old_roles
    roles = [role for role in roles if role in old_roles or role not in CLINICAL_ROLES]
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
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("staff %(username)s"), params={"username": user.username},
                 details={"roles": sorted(roles), "previous_roles": sorted(old_roles),
                          "is_active": is_active, "reception_lead": reception_lead})
    _role_grants_request(user=user, roles=asked & CLINICAL_ROLES, actor=actor)
    return user


def grant_approver_may_decide(*, grant: RoleGrant, actor) -> str:
    """Why ``actor`` may not decide on ``grant`` ("" when they may).

    ``MASS_GRANT_APPROVER`` (settings): empty, any coordinator but the requester; a username,
    only that account, and never the requester; ``"self"``, any coordinator, the requester
    included (a centre with one coordinator: the staff page then says the rule is off)."""
    approver = settings.MASS_GRANT_APPROVER
    if grant.decided_at is not None:
        return _("This request was already decided.")
    if approver not in ("", "self") and actor.username != approver:
        return _("Only %(name)s approves clinical roles here.") % {"name": approver}
    if approver != "self" and grant.requested_by_id == actor.pk:
        return _("A second person must decide: you asked for this role yourself.")
    return ""


@transaction.atomic
def role_grant_decide(*, grant: RoleGrant, approve: bool, actor) -> RoleGrant:
    """Approve (the role is given, the account's sessions end) or refuse a role grant."""
    grant = RoleGrant.objects.select_for_update().select_related("user").get(pk=grant.pk)
    reason = grant_approver_may_decide(grant=grant, actor=actor)
    if reason:
        raise ValidationError(reason)
    grant.decided_by, grant.decided_at, grant.approved = actor, timezone.now(), approve
    grant.save(update_fields=["decided_by", "decided_at", "approved"])
    user = grant.user
    if approve:
        user.groups.add(Group.objects.get(name=grant.role))
        # New rights: every open session of the account ends, as in staff_update.
        user.security_stamp = F("security_stamp") + 1
        user.save(update_fields=["security_stamp"])
    audit_record(actor=actor, action=Action.UPDATE, obj=grant,
                 summary=(gettext_noop("role %(role)s approved for %(username)s") if approve
                          else gettext_noop("role %(role)s refused for %(username)s")),
                 params={"role": grant.role, "username": user.username},
                 details={"role": grant.role, "account": user.pk, "approved": approve,
                          "requested_by": grant.requested_by_id})
    return grant


@transaction.atomic
def staff_set_password(*, user: User, password: str, actor) -> None:
    """A coordinator sets a member's password (forgotten one): every open session of the
    member ends, and the member changes it at the next login. Never one's own: that is a
    change, the old password asked (the reset also ends a lost outreach device's wait)."""
    if user.pk == actor.pk:
        raise ValidationError(_("Change your own password from your account: the current "
                                "one is asked there."), code="own")
    user.set_password(password)
    user.must_change_password = True
    user.password_reset_at = timezone.now()
    user.security_stamp = F("security_stamp") + 1
    user.save(update_fields=["password", "must_change_password", "password_reset_at",
                             "security_stamp"])
    user.refresh_from_db(fields=["security_stamp"])
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("password reset for %(username)s"),
                 params={"username": user.username})


@transaction.atomic
def password_change(*, user: User, password: str, actor) -> None:
    """A member changes their own password (the old one was checked by the form). Their
    other sessions end (the session hash holds the password); the caller keeps this one."""
    was_forced = user.must_change_password
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("password changed by %(username)s"),
                 params={"username": user.username},
                 details={"after_reset": was_forced})


@transaction.atomic
def password_change_refused(*, user: User) -> None:
    """A wrong current password on the change form: a failed authentication, audited like a
    failed login (someone at an unattended desk may be trying passwords)."""
    audit_record(actor=None, action=Action.LOGIN_FAILED, username=user.username,
                 summary=gettext_noop("password change refused: wrong current password"))


@transaction.atomic
def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
