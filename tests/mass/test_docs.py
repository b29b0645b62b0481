"""The documentation lives in the repository: every reference to a ``docs/*.md`` file (in code,
templates, tests, the README and docs/ itself) names a file that exists, and the section it
quotes is a heading or a bold lead-in of that file; every link of the README and of docs/
leads to a file of the repository (and to a heading of it, when it names one); nothing points
outside the repository."""

import re
from pathlib import Path

import pytest

# These read files only. The marker is for the suite's session set-up: without a test that
# asks for the database, pytest-django creates no test database and the reference data of
# tests/conftest.py would be written to the configured one.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: Not ours, generated, or local state: vendored libraries, the catalogues (made from the
#: code), the virtualenv and the embedded database.
SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", "staticfiles", "locale", "__pycache__",
                "build", "vendor", "results", ".pytest_cache"}
TEXT_SUFFIXES = {".py", ".html", ".txt", ".js", ".css", ".md", ".toml", ".cfg", ".ini", ".yml",
                 ".yaml", ".json", ".sh"}
TEXT_NAMES = {"Makefile", "run"}

#: ``docs/<file>.md``, then optionally the section it quotes: ``docs/<file>.md, "Section"``,
#: ``docs/<file>.md ("Section")``, ``docs/<file>.md "Section"``.
DOC_REFERENCE = re.compile(r'(?<![\w/.-])docs/([\w-]+\.md)(?:[,:]?\s*\(?"([^"]{1,120})")?')
#: A Markdown link: [text](target) or [text](target#anchor).
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]*)\)")
#: The checked-out steering documents beside the repository are not part of it.
OUTSIDE = "../" + "shared"
#: Files that do not exist, for the test of the checks (spelt in two pieces so that this
#: module does not itself name a missing file).
NOWHERE, GONE = "docs/" + "nowhere.md", "docs/" + "gone.md"


def repository_files():
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES):
            yield relative, path.read_text(encoding="utf-8", errors="replace")


def one_line(text: str) -> str:
    """A quotation as written across comment or docstring lines, on one line."""
    return " ".join(re.sub(r"(?m)^\s*#:?", " ", text).split())


def sections(doc: Path) -> set[str]:
    """The headings and the bold lead-ins (``**Backups**.``) of a Markdown file."""
    text = doc.read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^#{1,6}\s+(.+?)\s*$", text)
    leads = re.findall(r"(?m)^\*\*(.+?)\*\*", text)
    return {one_line(s).rstrip(".") for s in [*headings, *leads]}


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def dangling_doc_references(files) -> list[str]:
    found = []
    for relative, text in files:
        if relative == Path(__file__).relative_to(ROOT):
            continue
        for match in DOC_REFERENCE.finditer(text):
            name, quoted = match.groups()
            line = text.count("\n", 0, match.start()) + 1
            doc = DOCS / name
            if not doc.is_file():
                found.append(f"{relative}:{line}: docs/{name} does not exist")
            elif quoted and one_line(quoted).rstrip(".") not in sections(doc):
                found.append(f'{relative}:{line}: docs/{name} has no section "{one_line(quoted)}"')
        if OUTSIDE in text:
            found.append(f"{relative}: refers to {OUTSIDE}, outside the repository")
    return found


def broken_links(files) -> list[str]:
    found = []
    for relative, text in files:
        if relative.suffix != ".md":
            continue
        for match in MARKDOWN_LINK.finditer(text):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, fragment = target.partition("#")
            line = text.count("\n", 0, match.start()) + 1
            resolved = (ROOT / relative).parent / path if path else ROOT / relative
            if not resolved.resolve().is_relative_to(ROOT) or not resolved.exists():
                found.append(f"{relative}:{line}: link to a missing file: {target}")
            elif fragment and resolved.suffix == ".md" and fragment not in {
                    anchor(s) for s in re.findall(r"(?m)^#{1,6}\s+(.+?)\s*$",
                                                  resolved.read_text(encoding="utf-8"))}:
                found.append(f"{relative}:{line}: link to a missing heading: {target}")
    return found


def test_every_reference_to_docs_names_an_existing_file_and_section():
    files = list(repository_files())
    assert any(relative.parts[0] == "mass" for relative, _ in files)  # the walk found the code
    assert dangling_doc_references(files) == []


def test_every_link_of_the_readme_and_docs_leads_to_a_file_of_the_repository():
    files = [(relative, text) for relative, text in repository_files()
             if relative == Path("README.md") or relative.parts[0] == "docs"]
    assert Path("README.md") in {relative for relative, _ in files}
    assert broken_links(files) == []


def test_the_required_documents_exist():
    assert {path.name for path in DOCS.glob("*.md")} >= {
        "domain.md", "interfaces.md", "security.md", "operations.md", "benchmarks.md",
        "testing.md"}


def test_the_checks_catch_what_they_name():
    """The checks themselves: a missing file, a missing section, a link to nothing, a path
    outside the repository are each reported."""
    files = [
        (Path("mass/example.py"), f'# see {NOWHERE} and docs/security.md, "No such part"\n'
                                  '# and docs/security.md, "Two database\n#   roles" (exists)\n'),
        (Path("tests/example.py"), f"# {OUTSIDE}/docs/domain.md\n"),
    ]
    assert dangling_doc_references(files) == [
        f"mass/example.py:1: {NOWHERE} does not exist",
        'mass/example.py:1: docs/security.md has no section "No such part"',
        f"tests/example.py: refers to {OUTSIDE}, outside the repository",
    ]
    links = [(Path("README.md"), f"[ops](docs/operations.md) [gone]({GONE}) "
                                 "[web](https://example.org) [bad](docs/operations.md#nope)\n")]
    assert broken_links(links) == [
        f"README.md:1: link to a missing file: {GONE}",
        "README.md:1: link to a missing heading: docs/operations.md#nope",
    ]
