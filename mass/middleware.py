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
