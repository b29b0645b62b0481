"""Second factor (verification after the password, setting up an authenticator, recovery
codes) and the coordinator's page on staff second factors and login lockouts."""

from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Count, Exists, OuterRef, Value
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from mass import services
from mass.accounts import security, security_services
from mass.accounts.forms_auth import AuthenticatorConfirmForm, LockoutResetForm, SecondFactorForm
from mass.models import User
from mass.redirects import safe_next
from mass.refusals import refusal_text

#: Wrong codes in one session before it is ended (on top of django-otp's slowing down).
MAX_CODE_FAILURES = 5
SESSION_CODE_FAILURES = "mass_second_factor_failures"


class LogoutView(auth_views.LogoutView):
    """Django's logout, which also tells the browser to wipe what this site stored: the
    outreach page's encrypted round and queue (IndexedDB), its service worker and cached
    shell (docs/security.md, "The outreach device"). A phone handed back at the end of the
    day keeps nothing of the round, even encrypted."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def _mark_verified(request) -> None:
    # A new session key at each step up in rights, as at login.
    request.session.cycle_key()
    request.session[security.SESSION_SECOND_FACTOR] = security.VERIFIED
    request.session.pop(SESSION_CODE_FAILURES, None)


def _is_verified(request) -> bool:
    return request.session.get(security.SESSION_SECOND_FACTOR) == security.VERIFIED


@security.second_factor_exempt
def two_factor_verify(request):
    """The page after the password for the accounts that need a second factor."""
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if not security.second_factor_enforced() or _is_verified(request):
        return redirect(next_url)
    if not security.has_second_factor(request.user):
        if security.second_factor_required(request.user):
            return redirect(_url("two_factor_setup", next_url))
        return redirect(next_url)
    form = SecondFactorForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            _mark_verified(request)
            if isinstance(form.device, StaticDevice):
                left = security_services.recovery_codes_left(user=request.user)
                messages.warning(request, _(
                    "You used a recovery code; %(left)d left. Make new ones on the "
                    "two-factor page if you lost your phone.") % {"left": left})
            return redirect(next_url)
        failures = request.session.get(SESSION_CODE_FAILURES, 0) + 1
        request.session[SESSION_CODE_FAILURES] = failures
        if failures >= MAX_CODE_FAILURES:
            logout(request)
            messages.error(request, _("Too many wrong codes: log in again."))
            return redirect(settings.LOGIN_URL)
    return render(request, "registration/second_factor_verify.html",
                  {"form": form, "next": next_url})


@security.second_factor_exempt
def two_factor_setup(request):
    """Set up (or replace) the authenticator app. Between password and code it is open only
    to an account that has none yet; replacing one takes a verified session."""
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if (security.second_factor_enforced() and not _is_verified(request)
            and security.has_second_factor(request.user)):
        return redirect(_url("two_factor_verify", next_url))
    device = security_services.totp_device_pending(user=request.user)
    form = AuthenticatorConfirmForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        codes = security_services.totp_device_confirm(
            device=device, code=form.cleaned_data["code"], actor=request.user)
        if codes is not None:
            _mark_verified(request)
            return render(request, "mass/recovery_codes.html",
                          {"codes": codes, "next": next_url, "first_time": True})
        form.add_error("code", _("This code does not match. Check the time of your phone and "
                                 "enter the code shown now."))
    return render(request, "mass/two_factor_setup.html", {
        "form": form, "next": next_url, "qr_code": _qr_data_uri(device.config_url),
        "secret": _grouped(b32encode(device.bin_key).decode().rstrip("=")),
        "replacing": security.has_second_factor(request.user),
    })


def two_factor(request):
    """The signed-in user's own second factor: state, replace, new recovery codes."""
    return render(request, "mass/two_factor.html", {
        "has_authenticator": security.has_second_factor(request.user),
        "required": security.second_factor_required(request.user),
        "enforced": security.second_factor_enforced(),
        "recovery_codes_left": security_services.recovery_codes_left(user=request.user),
    })


@require_POST
def two_factor_recovery_codes(request):
    if not security.has_second_factor(request.user):
        return redirect("two_factor_setup")
    codes = security_services.recovery_codes_regenerate(user=request.user, actor=request.user)
    return render(request, "mass/recovery_codes.html",
                  {"codes": codes, "next": settings.LOGIN_REDIRECT_URL})


#: Wrong current passwords in one session before it is ended: the change form must not be a
#: way round the login's lockout for someone at an unattended desk.
MAX_OLD_PASSWORD_FAILURES = 5
SESSION_OLD_PASSWORD_FAILURES = "mass_old_password_failures"


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def password_change(request):
    """Every member's own password: the current one, the new one twice. Also the page a
    member is sent to while a coordinator's password is theirs (``must_change_password``).
    This session stays open; the member's other sessions end."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            services.password_change(user=request.user,
                                     password=form.cleaned_data["new_password1"],
                                     actor=request.user)
            update_session_auth_hash(request, request.user)
            request.session.pop(SESSION_OLD_PASSWORD_FAILURES, None)
            messages.success(request, _("Your password has been changed."))
            return redirect(settings.LOGIN_REDIRECT_URL)
        if form.has_error("old_password"):
            services.password_change_refused(user=request.user)
            failures = request.session.get(SESSION_OLD_PASSWORD_FAILURES, 0) + 1
            request.session[SESSION_OLD_PASSWORD_FAILURES] = failures
            if failures >= MAX_OLD_PASSWORD_FAILURES:
                logout(request)
                messages.error(request, _("Too many wrong passwords: log in again."))
                return redirect(settings.LOGIN_URL)
    return render(request, "registration/password_change.html", {
        "form": form, "forced": request.user.must_change_password})


@permission_required("mass.manage_staff", raise_exception=True)
def staff_security(request):
    """Coordinators: who has a second factor, who must, who is locked out."""
    from axes.models import AccessAttempt
    from django_otp.plugins.otp_totp.models import TOTPDevice

    roles = security.second_factor_roles()
    staff = (
        User.objects.filter(is_active=True)
        .annotate(
            has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"),
                                                               confirmed=True)),
            second_factor_role=(
                Value(True, output_field=BooleanField()) if roles is None
                else Exists(User.groups.through.objects.filter(
                    user_id=OuterRef("pk"), group__name__in=list(roles)))),
            recovery_codes_left=Count("staticdevice__token_set", distinct=True),
        )
        .order_by("username")
    )
    cool_off_start = timezone.now() - settings.AXES_COOLOFF_TIME
    lockouts = (AccessAttempt.objects
                .filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                        attempt_time__gte=cool_off_start)
                .order_by("-attempt_time"))
    return render(request, "mass/staff_security.html", {
        "staff": staff, "lockouts": lockouts, "enforced": security.second_factor_enforced(),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    })


@require_POST
@permission_required("mass.manage_staff", raise_exception=True)
def staff_two_factor_reset(request, pk):
    member = get_object_or_404(User, pk=pk)
    try:
        security_services.second_factor_reset(user=member, actor=request.user)
    except ValidationError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, _("Second factor of %(name)s removed: they will set up a "
                                    "new one at their next login.") % {"name": member.username})
    return redirect("staff_security")


@require_POST
@permission_required("mass.manage_staff", raise_exception=True)
def staff_lockout_reset(request):
    form = LockoutResetForm(request.POST)
    if form.is_valid():
        username = form.cleaned_data["username"]
        security_services.lockout_reset(username=username, actor=request.user)
        messages.success(request, _("%(name)s may try to log in again.") % {"name": username})
    return redirect("staff_security")


@security.second_factor_exempt
def lockout_response(request, original_response=None, credentials=None):
    """What django-axes answers to a login attempt on a locked username (HTTP 429), in the
    language of the login page."""
    return render(request, "registration/locked_out.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=settings.AXES_HTTP_RESPONSE_CODE)


def _url(name: str, next_url: str) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _qr_data_uri(text: str) -> str:
    """The QR code as an SVG data URI for an <img>: the CSP allows data: images, not inline
    scripts or styles."""
    import segno
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def _database_unavailable(exception) -> bool:
    """The exception, or one it arose from, says the database cannot be reached."""
    from django.db import InterfaceError, OperationalError
    seen = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return True
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return False


#: Seconds a client should wait before asking again while the database cannot be reached.
RETRY_AFTER_SECONDS = "10"


def _unavailable():
    from django.http import HttpResponse
    from django.template.loader import render_to_string
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def server_error(request):
    """handler500: when the database cannot be reached (a restart, a failover), say so with
    503 and Retry-After instead of an opaque 500. Nothing was written: every write of the
    application is one transaction, which PostgreSQL rolls back when the connection drops.
    The page needs no database (no user, no session)."""
    import sys

    from django.views.defaults import server_error as default_server_error

    if _database_unavailable(sys.exc_info()[1]):
        return _unavailable()
    return default_server_error(request)


def bad_request(request, exception):
    """handler400: the session could not be saved because the database went away during the
    request (Django reports it as SessionInterrupted, a 400): that is an outage too."""
    from django.views.defaults import bad_request as default_bad_request

    if _database_unavailable(exception):
        return _unavailable()
    return default_bad_request(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form refused for its security token (most often a page left open
    across a new login, or cookies blocked) gets the application's 403 page saying why, in
    the user's language, instead of Django's technical English page. The reason stays in the
    log line CsrfViewMiddleware writes."""
    from django.http import HttpResponseForbidden
    from django.template.loader import render_to_string
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))
