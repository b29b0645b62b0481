"""Where to go back after a form: the ``next`` the page was given, when it is safe."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` path of the request (the form's, else the query string's) when it is a
    path of this site, else ``default``. An unchecked ``next`` is an open redirect; a path
    only, because ``redirect()`` takes a bare word for a view name (a server error)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url.startswith("/") and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default
