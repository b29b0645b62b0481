import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def niss_is_valid(value: str) -> bool:
    """Check a Belgian national number (NISS/INSZ, also the BIS number): 11 digits whose last
    two are 97 minus the first nine modulo 97; for people born from 2000 on, a 2 is put
    before the nine digits."""
    if len(value) != 11 or not value.isdigit():
        return False
    base, check = int(value[:9]), int(value[9:])
    return check in (97 - base % 97, 97 - int("2" + value[:9]) % 97)


def validate_niss(value: str) -> None:
    digits = "".join(ch for ch in value if ch.isdigit())
    if value and not niss_is_valid(digits):
        raise ValidationError(
            _("This is not a valid NISS/INSZ number: 11 digits with correct check digits."),
            code="invalid_niss",
        )


# A "<" directly followed by a letter, "/", "!" or "?" opens an HTML tag or comment; a lone
# "<" (as in "dose < 60 mg") is harmless text.
MARKUP = re.compile(r"<\s*[a-zA-Z/!?]")


def validate_no_markup(value: str) -> None:
    """Names and aliases never contain HTML; refusing it keeps pasted markup out of the file
    (everything is escaped when shown anyway)."""
    if value and MARKUP.search(value):
        raise ValidationError(
            _("This text must not contain HTML tags (“<…>”)."), code="markup",
        )


def normalize_niss(value: str) -> str:
    """The 11 digits of a NISS typed with the usual dots, dashes or spaces."""
    return "".join(ch for ch in value if ch.isdigit()) if value else ""
