"""Compile the translation catalogues (locale/*/LC_MESSAGES/*.po -> .mo) at set-up.

Uses GNU msgfmt when the machine has it (it checks formats); otherwise a small pure-Python
writer, so that a fresh machine with only Python can run `make run`.
Usage: python -m mass.i18n_compile locale
"""

import ast
import shutil
import struct
import subprocess
import sys
from pathlib import Path


def parse_po(text: str) -> dict[str, str]:
    """Return {msgid (with context and plural joined as in .mo files): msgstr}."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str] | dict[int, list[str]]] = {}
    key = None
    fuzzy = False

    def flush():
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            msgid = "".join(entry["msgid"])
            if "msgid_plural" in entry:
                msgid += "\0" + "".join(entry["msgid_plural"])
                plural = entry.get("msgstr_plural", {})
                msgstr = "\0".join("".join(plural[i]) for i in sorted(plural))
            else:
                msgstr = "".join(entry.get("msgstr", []))
            if "msgctxt" in entry:
                msgid = "".join(entry["msgctxt"]) + "\x04" + msgid
            if msgstr.replace("\0", "") or msgid == "":
                messages[msgid] = msgstr
        entry, fuzzy = {}, False

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if "msgid" in entry and "msgstr" in entry or "msgstr_plural" in entry:
                flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            continue
        if (line.startswith(("msgctxt ", "msgid "))
                and ("msgstr" in entry or "msgstr_plural" in entry)):
            keep_fuzzy = fuzzy
            fuzzy = False
            flush()
            fuzzy = keep_fuzzy
        if line.startswith('"'):
            target = entry[key] if not isinstance(key, tuple) else entry[key[0]][key[1]]
            target.append(ast.literal_eval(line))
            continue
        word, _, rest = line.partition(" ")
        value = ast.literal_eval(rest.strip())
        if word.startswith("msgstr["):
            index = int(word[7:-1])
            entry.setdefault("msgstr_plural", {})[index] = [value]
            key = ("msgstr_plural", index)
        else:
            entry[word] = [value]
            key = word
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    keys = sorted(messages)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(messages[k].encode() + b"\0" for k in keys)
    count = len(keys)
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    offsets_ids, offsets_strs, pos = [], [], 0
    for k in keys:
        length = len(k.encode())
        offsets_ids.append((length, data_start + pos))
        pos += length + 1
    ids_end = data_start + len(ids)
    pos = 0
    for k in keys:
        length = len(messages[k].encode())
        offsets_strs.append((length, ids_end + pos))
        pos += length + 1
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", *o) for o in offsets_ids)
    out += b"".join(struct.pack("<2I", *o) for o in offsets_strs)
    out += ids + strs
    path.write_bytes(out)


def compile_all(locale_dir: Path) -> int:
    msgfmt = shutil.which("msgfmt")
    compiled = 0
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if msgfmt:
            subprocess.run([msgfmt, "--check-format", "-o", str(mo), str(po)], check=True)
        else:
            write_mo(parse_po(po.read_text(encoding="utf-8")), mo)
        compiled += 1
    return compiled


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "locale")
    n = compile_all(target)
    if n:
        print(f"Compiled {n} translation catalogue(s).")
