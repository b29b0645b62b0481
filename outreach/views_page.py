"""The outreach page (issue 16): the shell the mobile team installs on a phone, its web app
manifest and its service worker. None of them holds patient data: the page is only the
screens and their translated words; the round (people, alerts, photos) comes from the API
as JSON and is kept encrypted on the device by static/js/outreach/ (docs/security.md,
"The outreach device")."""

from pathlib import Path

from django.contrib.auth.decorators import permission_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from outreach.selectors import outreach_sites

#: What the page needs to work offline, from the server's own rules (docs/security.md).
ROUND_HOURS = 12
WRONG_PINS_BEFORE_WIPE = 5
PIN_MIN_LENGTH = 6
# OWASP's figure for PBKDF2-HMAC-SHA256 (2023): a 6-digit PIN alone is still guessed offline
# in hours on a stolen phone, which is why the key never leaves memory and the data expires.
PBKDF2_ITERATIONS = 310_000
SYNC_BATCH_MAX = 500
ICON_SIZES = (192, 512)


@require_GET
@permission_required("outreach.use_outreach", raise_exception=True)
def outreach_page(request):
    """The installable outreach page. The outreach places are reference data (names and
    kinds), not patient data: they are in the shell so a round can be chosen before any
    request to the API."""
    sites = outreach_sites()
    config = {
        "urls": {
            "page": reverse("outreach:page"),
            "worker": reverse("outreach:service_worker"),
            "devices": reverse("outreach:api_devices"),
            "round": reverse("outreach:api_round"),
            "sync": reverse("outreach:api_sync"),
            "login": reverse("login"),
        },
        "round_hours": ROUND_HOURS,
        "wrong_pins_before_wipe": WRONG_PINS_BEFORE_WIPE,
        "pin_min_length": PIN_MIN_LENGTH,
        "pbkdf2_iterations": PBKDF2_ITERATIONS,
        "sync_batch_max": SYNC_BATCH_MAX,
        # The device's id is kept per user: a team phone may be used by several people,
        # each with their own registration (a device belongs to one user on the server).
        "user": request.user.pk,
        "icons": [static(f"img/outreach/icon-{size}.png") for size in ICON_SIZES],
        "strings": _strings(),
    }
    return render(request, "outreach/page.html", {
        "outreach_config": config, "sites": sites, "hours": ROUND_HOURS,
        "pin_min_length": PIN_MIN_LENGTH,
    })


@require_GET
def outreach_manifest(request):
    """The web app manifest: the application's name and icons. Behind the login like every
    page (the page's link asks the browser to send the session cookie with it); no
    permission, as it says nothing."""
    manifest = {
        "name": _("MASS outreach"),
        "short_name": _("MASS outreach"),
        "description": _("Record the outreach round, with or without a connection."),
        "id": reverse("outreach:page"),
        "start_url": reverse("outreach:page"),
        "scope": reverse("outreach:page"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0d6efd",
        "icons": [
            {"src": static(f"img/outreach/icon-{size}.png"), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any"}
            for size in ICON_SIZES
        ],
    }
    return JsonResponse(manifest, content_type="application/manifest+json",
                        json_dumps_params={"ensure_ascii": False})


@require_GET
def outreach_service_worker(request):
    """The service worker, served from /outreach/ (not /static/) so that its scope covers
    the page. Behind the login (browsers send the cookies when they fetch a worker's
    updates; after a session ended, the update waits and the installed worker stays); no
    permission, as it is a static file."""
    source = Path(finders.find("js/outreach/sw.js")).read_bytes()
    return HttpResponse(source, content_type="application/javascript",
                        headers={"Service-Worker-Allowed": reverse("outreach:page")})


def _strings() -> dict[str, str]:
    """The words the page's script shows, in the user's language (the template holds the
    rest)."""
    return {
        "kind_contact": _("Contact"),
        "kind_material": _("Material"),
        "kind_note": _("Note"),
        "kind_screening": _("Screening"),
        "kind_referral": _("Referral"),
        "kind_attempt": _("Outreach attempt"),
        "kind_person": _("New person (alias only)"),
        "kind_initiation": _("Substitution initiation"),
        "anonymous": _("Anonymous"),
        "new_person": _("new, not yet sent"),
        "born": _("born %(year)s"),
        "no_one_found": _("No one found in the round's list."),
        "status_pending": _("waiting to be sent"),
        "status_refused": _("refused"),
        "status_accepted": _("sent"),
        "status_already": _("already sent before"),
        "status_damaged": _("damaged, cannot be sent"),
        "remove": _("Remove"),
        "remove_confirm": _("Remove this record from the device? It will not be sent."),
        "pin_too_short": _("The PIN must have at least %(n)s characters."),
        "pin_mismatch": _("The two PINs are not the same."),
        "pin_wrong": _("Wrong PIN. %(n)s tries left before everything on this device is wiped."),
        "pin_wiped": _("Too many wrong PINs: everything on this device was wiped."),
        "expired": _("The round was fetched more than %(hours)s hours ago: everything on this "
                     "device was wiped."),
        "fetching": _("Fetching the round…"),
        "fetched": _("Round ready: %(n)s people. It is stored encrypted on this device until "
                     "%(time)s."),
        "offline": _("No connection: the records stay on this device, encrypted."),
        "online": _("Connected"),
        "offline_badge": _("Offline"),
        "session_ended": _("Your session has ended: log in again to send the records. They "
                           "stay on this device, encrypted."),
        "log_in": _("Log in"),
        "server_refused": _("The server did not accept the request (%(status)s). The records "
                            "stay on this device."),
        "syncing": _("Sending %(n)s records…"),
        "sync_done": _("%(accepted)s sent, %(refused)s refused, %(damaged)s damaged."),
        "all_sent": _("Everything was sent. The round was wiped from this device."),
        "queued": _("Recorded on this device: %(kind)s."),
        "choose_person": _("Choose a person first (or record anonymous material)."),
        "note_left": _("%(n)s of %(max)s characters"),
        "note_too_long": _("The note is longer than %(max)s characters."),
        "nothing_handed": _("Enter at least one quantity."),
        "text_required": _("Write the text."),
        "partner_required": _("Choose the partner."),
        "alias_required": _("Write the alias."),
        "wiped": _("Everything on this device was wiped."),
        "wipe_confirm": _("Wipe the round and every record not yet sent from this device?"),
        "device_refused": _("This device could not be registered (%(status)s)."),
        "round_damaged": _("The round on this device is damaged and cannot be read: send what "
                            "is queued, then wipe the device and fetch the round again."),
        "failed": _("Something went wrong on this device. The records already queued stay "
                    "encrypted on it; reload the page."),
        "no_crypto": _("This browser cannot encrypt the round (no WebCrypto or IndexedDB): "
                       "the outreach page cannot be used on it."),
        "expires_at": _("Kept on this device until %(time)s at the latest."),
    }
