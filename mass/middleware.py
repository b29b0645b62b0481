from django.contrib.auth import middleware as auth_middleware
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

        from mass.accounts.security import SESSION_AUTH_AT

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
    ``mass.accounts.security.second_factor_exempt`` (verification, enrolment, logout) open; every
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

        from mass.accounts import security

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


class PasswordChangeRequiredMiddleware:
    """A member whose password was set by a coordinator (``User.must_change_password``) opens
    only the password change page until they change it; logout, the public pages and the
    second-factor pages (which come first) stay open. The flag is a column of the user row
    the session loads anyway: no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.http import HttpResponse, HttpResponseRedirect
        from django.urls import reverse

        if not request.user.is_authenticated or not request.user.must_change_password:
            return None
        if not getattr(view_func, "login_required", True):
            return None  # public pages (login, health check, language)
        if getattr(view_func, "second_factor_exempt", False):
            return None  # second factor, logout
        target = reverse("password_change")
        if request.path == target:
            return None
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, except for htmx requests: following the redirect, htmx would swap the login
    page into the row clicked (a dose silently not recorded after the idle timeout). They
    get ``HX-Redirect`` instead: the whole page goes to the login page, which says the action
    was not recorded, and comes back to the page the user was on (``HX-Current-URL``)."""

    def handle_no_permission(self, request, view_func):
        from django.contrib import messages
        from django.http import HttpResponse
        from django.shortcuts import resolve_url
        from django.urls import reverse
        from django.utils.http import urlencode
        from django.utils.translation import gettext as _

        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        # Only a page of this site: a forged header must not make the login an open redirect.
        page = htmx.current_url_abs_path or reverse("home")
        target = (resolve_url(self.get_login_url(view_func)) + "?"
                  + urlencode({self.get_redirect_field_name(view_func): page}))
        if request.method in ("GET", "HEAD"):
            messages.warning(request, _("Your session had ended: log in again to go on."))
        else:
            messages.error(request, _("Not recorded: your session had ended before the action "
                                      "reached the server. Log in again, then check and redo "
                                      "it."))
        return HttpResponse(status=204, headers={"HX-Redirect": target})


class HtmxFailureMiddleware:
    """An htmx request refused (403), not found (404) or failed (5xx) says so at the top of
    the page, never inside the row or list it would have replaced: the response becomes a
    small alert aimed at base.html's ``#htmx-alert`` region (``HX-Retarget``), with its
    status kept. htmx does not swap error responses: static/js/app.js shows it (and, with
    no response at all, the connection-lost text of the region's data attributes)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django_htmx.middleware import HtmxDetails

        response = self.get_response(request)
        # Read here, not from request.htmx: this middleware is outside HtmxMiddleware.
        if response.status_code < 400 or not HtmxDetails(request):
            return response
        if getattr(response, "streaming", False):
            return response
        from django.template.loader import render_to_string

        # Without the request: no context processor, so no query, as the 503 page of a
        # database outage needs.
        response.content = render_to_string("mass/_htmx_failure.html", {
            "status": response.status_code,
            "reading": request.method in ("GET", "HEAD"),
        })
        response["Content-Type"] = "text/html; charset=utf-8"
        if response.has_header("Content-Length"):  # set by CommonMiddleware for the old body
            response["Content-Length"] = str(len(response.content))
        response["HX-Retarget"] = "#htmx-alert"
        response["HX-Reswap"] = "innerHTML"
        return response


class UndecodableFormMiddleware:
    """A form posted in another charset than UTF-8 (``charset=latin-1``, ``utf-16``) is a
    400, not a 500. Django refuses such a body with ``BadRequest`` when ``request.POST`` is
    first read, but does not mark the body as unreadable: the CSRF check of the 400 page's own
    handler reads it again, fails again, and the 400 becomes a 500. Checked here, before any
    view or CSRF check: the body is marked unreadable (an empty POST), then refused."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.core.exceptions import BadRequest

        if (request.content_type == "application/x-www-form-urlencoded"
                and request.encoding is not None
                and request.encoding.lower() != "utf-8"):  # Django's own condition
            request._mark_post_parse_error()
            raise BadRequest(f"A form body must be UTF-8 encoded, not {request.encoding}.")
        return self.get_response(request)
