"""What every printed document shares: the language it is written in, the centre's header,
and the author lines.

A document goes to someone outside the screen: a pharmacist, a partner, the patient. It is
written in the patient's language when that is French or Dutch (the two languages of
Brussels' services); otherwise in the centre's default language (``LANGUAGE_CODE``), because
the pharmacy or the partner reading it works in one of the two. Only the document's body is
in that language (``{% language %}`` in templates/printing/document.html, that is
``translation.override``); the page around it (the Print button, the way back) stays in the
reader's language.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from mass.models import Site

DOCUMENT_LANGUAGES = ("fr", "nl")

#: The centre's name as it signs its letters, in each language (a proper name, not a
#: translation: "MSOC Brussel" is how Dutch-speaking partners know it).
CENTRE_NAMES = {"fr": "MASS de Bruxelles", "nl": "MSOC Brussel", "en": "MASS de Bruxelles"}


def document_language(patient) -> str:
    if patient is not None and patient.language in DOCUMENT_LANGUAGES:
        return patient.language
    default = settings.LANGUAGE_CODE
    return default if default in DOCUMENT_LANGUAGES else "fr"


@dataclass(frozen=True)
class CentreHeader:
    name: str
    address: str
    phone: str


def centre_header(language: str) -> CentreHeader:
    """The letterhead: the centre's site (created by the migrations, kind "centre") gives the
    address and phone; without one, the address of the rue de Woeringen."""
    centre = (Site.objects.filter(kind=Site.Kind.CENTRE, is_active=True)
              .order_by("id").values("address", "phone").first())
    if centre is None:
        centre = {"address": "Rue de Woeringen 16-18, 1000 Bruxelles", "phone": ""}
    return CentreHeader(name=CENTRE_NAMES.get(language, CENTRE_NAMES["fr"]),
                        address=centre["address"], phone=centre["phone"])


def document_context(*, kind: str, patient, actor, back_url: str, title: str) -> dict:
    """The context templates/printing/document.html needs around a document's own."""
    language = document_language(patient)
    return {"document_kind": kind, "document_language": language,
            "document_title": title, "centre": centre_header(language), "printed_by": actor,
            "printed_at": timezone.localtime(), "back_url": back_url}

