"""Which messages of the code lack a French or Dutch translation, in pure Python (no GNU
gettext tools on a fresh machine).

Two questions, asked by ``tests/mass/test_translations.py``:

- ``code_messages()``: every message the code marks for translation (``_()``, ``gettext``,
  ``gettext_noop``, ``pgettext``, ``ngettext``... in the apps' Python files, ``{% translate %}``
  and ``{% blocktranslate %}`` in the templates, the latter through Django's own
  ``templatize``, the function makemessages uses);
- ``po_entries()``: each entry of a catalogue, translated or not, fuzzy or not (the compiler,
  mass.i18n.compile, keeps only what is translated).

A message of the code absent from a catalogue, present but empty, or fuzzy, is shown in the
fallback language or in English: ``missing_translations()`` names them.
Usage: ``python -m mass.i18n.check`` prints them, per language.
"""

import ast
import io
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: The folders makemessages reads for the project's catalogue (the apps and the templates).
SOURCE_DIRS = ("mass", "patients", "consultations", "dispensary", "social", "reporting",
               "alerts", "outreach", "templates")
LANGUAGES = ("fr", "nl")

# name -> (index of the context argument or None, index of the message)
MARKERS = {
    "_": (None, 0), "gettext": (None, 0), "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0), "ngettext": (None, 0), "ngettext_lazy": (None, 0),
    "pgettext": (0, 1), "pgettext_lazy": (0, 1), "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}


@dataclass
class PoEntry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.msgstr) and all(self.msgstr)


def po_entries(text: str) -> list[PoEntry]:
    """The entries of a .po file (the header and obsolete ``#~`` entries left out)."""
    entries: list[PoEntry] = []
    current: dict = {}
    fuzzy = False
    target: tuple | None = None

    def flush():
        nonlocal current, fuzzy
        if "msgid" in current:
            msgstr = ([current["msgstr"]] if "msgstr" in current else
                      [current["plural"][i] for i in sorted(current.get("plural", {}))])
            entry = PoEntry(msgid=current["msgid"], msgctxt=current.get("msgctxt"),
                            msgid_plural=current.get("msgid_plural"), msgstr=msgstr,
                            fuzzy=fuzzy)
            if entry.msgid:
                entries.append(entry)
        current, fuzzy = {}, False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#,"):
            if "msgid" in current:
                flush()
            fuzzy = fuzzy or "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if target[0] == "plural":
                current["plural"][target[1]] += value
            else:
                current[target[0]] += value
            continue
        word, _, rest = line.partition(" ")
        if word in ("msgctxt", "msgid") and ("msgstr" in current or "plural" in current):
            keep = fuzzy
            flush()
            fuzzy = keep
        value = ast.literal_eval(rest.strip())
        if word.startswith("msgstr["):
            index = int(word[7:-1])
            current.setdefault("plural", {})[index] = value
            target = ("plural", index)
        else:
            current[word] = value
            target = (word,)
    flush()
    return entries


def _marked(source: str) -> set[str]:
    """The messages marked in Python-like source (a module, or a template as templatize
    writes it): a marker's name, "(", its literal strings. Tokens, not ``ast``: templatize's
    output is not Python."""
    found = set()
    tokens = _tokens(source)
    for i, token in enumerate(tokens[:-2]):
        if not _is_marker_call(tokens, i):
            continue
        args = _string_arguments(tokens, i + 2)
        context, _message = MARKERS[token.string]
        if context is None and args:
            found.add(args[0])
        elif context is not None and len(args) >= 2:
            found.add(f"{args[0]}\x04{args[1]}")
    return found


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    """The tokens that carry meaning (no line ends, comments or indents); none when the
    source does not tokenize."""
    skipped = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
               tokenize.DEDENT)
    try:
        return [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if t.type not in skipped]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _is_marker_call(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """Whether tokens[i] is a marker's name followed by "(": not its definition, nor a
    method called "_"."""
    token = tokens[i]
    if token.type != tokenize.NAME or token.string not in MARKERS:
        return False
    before = tokens[i - 1].string if i else ""
    if before == "def" or (before == "." and token.string == "_"):
        return False
    return tokens[i + 1].string == "("


def _string_arguments(tokens: list[tokenize.TokenInfo], j: int) -> list[str]:
    """The first two arguments from tokens[j] on, as long as they are literal strings
    (adjacent literals joined, as Python joins them)."""
    args = []
    while len(args) < 2 and j < len(tokens) and tokens[j].type == tokenize.STRING:
        parts = []
        while j < len(tokens) and tokens[j].type == tokenize.STRING:
            parts.append(tokens[j].string)
            j += 1
        try:
            args.append("".join(ast.literal_eval(part) for part in parts))
        except (ValueError, SyntaxError):
            break
        if j >= len(tokens) or tokens[j].string != ",":
            break
        j += 1
    return args


def code_messages(base: Path = BASE_DIR) -> dict[str, str]:
    """{message: the first file that marks it}."""
    from django.utils.translation.template import templatize

    messages: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((base / folder).rglob("*")):
            if path.suffix == ".py":
                source = path.read_text(encoding="utf-8")
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            else:
                continue
            for message in _marked(source):
                messages.setdefault(message, str(path.relative_to(base)))
    messages.pop("", None)
    return messages


def missing_translations(base: Path = BASE_DIR) -> dict[str, list[str]]:
    """{language: ["message (file)", ...]} for the messages of the code that the language's
    catalogue lacks, leaves empty or marks fuzzy, and the catalogue's own untranslated
    entries."""
    code = code_messages(base)
    missing = {}
    for language in LANGUAGES:
        po = base / "locale" / language / "LC_MESSAGES" / "django.po"
        entries = {e.key: e for e in po_entries(po.read_text(encoding="utf-8"))}
        lacking = [f"{message!r} ({where})" for message, where in sorted(code.items())
                   if message not in entries or not entries[message].translated]
        lacking += [f"{key!r} (locale/{language})" for key, entry in sorted(entries.items())
                    if not entry.translated and key not in code]
        missing[language] = lacking
    return missing


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings")
    django.setup()
    result = missing_translations()
    for language, lacking in result.items():
        print(f"{language}: {len(lacking)} without a translation")
        for line in lacking:
            print("   ", line)
    sys.exit(1 if any(result.values()) else 0)
