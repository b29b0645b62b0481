"""HTML escaping for the rows the busiest pages render in Python (the dispensing list, the
reception board and searches, patients.identity)."""

import html
import re

_SPECIAL = re.compile("[&<>\"']").search


def e(value) -> str:
    """django.utils.html.escape without its lazy-string wrapper (the same output: both are
    ``html.escape(str(value))``, here skipped for the text without a character to escape);
    the rows are marked safe once, as a whole."""
    text = str(value)
    return html.escape(text) if _SPECIAL(text) else text
