from django.utils import translation
from django.utils.cache import add_never_cache_headers

from mass.audit import current_ip


def client_ip(request) -> str | None:
    # Behind the reverse proxy of the README, REMOTE_ADDR is the proxy; the proxy must be
    # configured to set X-Real-IP (trusted only when TRUST_X_REAL_IP is on).
    from django.conf import settings
    if getattr(settings, "TRUST_X_REAL_IP", False) and request.META.get("HTTP_X_REAL_IP"):
        return request.META["HTTP_X_REAL_IP"]
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class UserLanguageMiddleware:
    """Use the language a staff member chose, on any computer they sign in on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing a signed-in user sees may stay in a browser or proxy cache: every page holds
    health data or leads to it. Static files are served before this by WhiteNoise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            # Sets "no-cache, no-store, must-revalidate, private".
            add_never_cache_headers(response)
        return response


class SessionLifetimeMiddleware:
    """End a session SESSION_ABSOLUTE_AGE seconds after its login, however active it was.

    The inactivity limit is Django's own (SESSION_COOKIE_AGE renewed on every request); this
    one bounds a session kept alive all day on a shared desk, or a copied cookie. The user
    is logged out (audited) and LoginRequiredMiddleware then sends them to the login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        from django.conf import settings
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.utils.translation import gettext as _

        from mass.security import SESSION_AUTH_AT

        if request.user.is_authenticated:
            started = request.session.get(SESSION_AUTH_AT)
            now = int(time.time())
            if started is None:
                # A session from before this rule: its clock starts now.
                request.session[SESSION_AUTH_AT] = now
            elif now - started > settings.SESSION_ABSOLUTE_AGE:
                logout(request)
                messages.info(request, _("Your session has ended: please log in again."))
        return self.get_response(request)


class SecondFactorMiddleware:
    """Between the password and the second factor, only the pages marked
    ``mass.security.second_factor_exempt`` (verification, enrolment, logout) open; every
    other page sends the user to the verification page. Nothing happens when
    ``MASS_REQUIRE_2FA`` is off. Once decided, the session remembers the answer, so a
    verified session costs no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from urllib.parse import urlencode

        from django.http import HttpResponse, HttpResponseRedirect
        from django.urls import reverse

        from mass import security

        if not security.second_factor_enforced():
            return None
        if not getattr(view_func, "login_required", True):
            return None  # public pages (login, health check)
        if getattr(view_func, "second_factor_exempt", False):
            return None
        if not request.user.is_authenticated:
            return None  # LoginRequiredMiddleware has answered already
        state = request.session.get(security.SESSION_SECOND_FACTOR)
        if state in (security.VERIFIED, security.EXEMPT):
            return None
        if not security.second_factor_required(request.user):
            request.session[security.SESSION_SECOND_FACTOR] = security.EXEMPT
            return None
        target = reverse("two_factor_verify") + "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
