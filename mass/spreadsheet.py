"""What every CSV and XLSX file the application writes passes its cells through.

Text typed by staff (a site's name, a label) ends up in files opened with Excel or
LibreOffice. There, a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) is a formula: ``=HYPERLINK(...)`` becomes a live link, other formulas can
run commands or send data away (CSV/formula injection). Control characters are refused by
the XLSX format itself (openpyxl raises) and garble a CSV. See docs/security.md.
"""

import re

#: C0 control characters except tab, line feed and carriage return, and DEL: not allowed in
#: an XLSX cell, and nothing a person meant to type.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value to write in a cell: text without control characters, prefixed with ``'``
    when it would start a formula (the spreadsheet then shows it as text); numbers, dates and
    None unchanged (a negative number is a number, not a formula)."""
    if not isinstance(value, str):
        return value
    value = CONTROL_CHARACTERS.sub("", value)
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]
