"""Read the forms of a page as a browser would submit them: field names, kinds, choices
and the values the page fills in. The bad-input campaign builds its values from this, so a
field added to a form is fuzzed without touching the tests."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

#: Input types that submit nothing of their own.
NOT_SUBMITTED = {"button", "reset", "image", "file"}
CONSTRAINTS = ("required", "min", "max", "step", "maxlength")


@dataclass
class Field:
    name: str
    kind: str  # an <input> type, "select", "textarea" or "submit" (a named button)
    options: list[str] = field(default_factory=list)
    default: list[str] = field(default_factory=list)
    multiple: bool = False
    #: The constraints the browser applies: required, min, max, step, maxlength.
    attrs: dict = field(default_factory=dict)


@dataclass
class Form:
    action: str
    fields: dict[str, Field] = field(default_factory=dict)
    method: str = "post"

    def add(self, name: str, kind: str, *, value: str | None = None, option: str | None = None,
            selected: bool = False, multiple: bool = False, attrs: dict | None = None) -> None:
        current = self.fields.get(name)
        if current is None:
            constraints = {key: (attrs or {})[key] for key in CONSTRAINTS if key in (attrs or {})}
            current = self.fields[name] = Field(name, kind, multiple=multiple, attrs=constraints)
        elif kind in ("checkbox",) and option is not None:
            current.multiple = True  # a group of checkboxes under one name
        if option is not None and option not in current.options:
            current.options.append(option)
        if value is not None:
            current.default.append(value)
        elif selected and option is not None:
            current.default.append(option)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: tuple[str, bool] | None = None
        self.option: dict | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    # Complexity 23, kept: one branch per kind of form element the parser meets.
    def handle_starttag(self, tag, attrs):
        attrs = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form":
            method = (attrs.get("method") or ("post" if "hx-post" in attrs else "get")).lower()
            action = attrs.get("hx-post") or attrs.get("action") or ""
            self.form = Form(action, method=method)
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in NOT_SUBMITTED:
                return
            if kind in ("checkbox", "radio"):
                value = attrs.get("value", "on")
                self.form.add(name, kind, option=value, selected="checked" in attrs,
                              attrs=attrs)
            elif kind == "submit":
                self.form.add(name, "submit", option=attrs.get("value", ""))
            else:
                self.form.add(name, kind, value=attrs.get("value", ""), attrs=attrs)
        elif tag == "button" and name and attrs.get("type", "submit") == "submit":
            self.form.add(name, "submit", option=attrs.get("value", ""))
        elif tag == "select" and name:
            self.select = (name, "multiple" in attrs)
            self.form.add(name, "select", multiple="multiple" in attrs, attrs=attrs)
        elif tag == "option" and self.select:
            self.option = {"value": attrs.get("value"), "selected": "selected" in attrs}
            self.text = []
        elif tag == "textarea" and name:
            self.textarea = name
            self.textarea_attrs = attrs
            self.text = []

    def handle_data(self, data):
        if self.option is not None or self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "option" and self.option is not None and self.select and self.form:
            value = self.option["value"]
            if value is None:
                value = "".join(self.text).strip()
            self.form.add(self.select[0], "select", option=value,
                          selected=self.option["selected"])
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            text = "".join(self.text)
            self.form.add(self.textarea, "textarea", value=text[1:] if text.startswith("\n")
                          else text, attrs=self.textarea_attrs)
            self.textarea = None


def page_forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


def post_forms(html: str) -> list[Form]:
    return [form for form in page_forms(html) if form.method == "post"]


def get_fields(html: str, *, page_url: str) -> dict[str, Field]:
    """The fields of the page's GET forms that submit to the page itself (search boxes,
    filters)."""
    here = urlsplit(page_url).path
    fields = {}
    for form in page_forms(html):
        if form.method == "get" and (not form.action or urlsplit(form.action).path == here):
            fields.update(form.fields)
    return fields


def form_posting_to(html: str, *, page_url: str, target_url: str) -> Form:
    """The first POST form of the page whose action is ``target_url`` (an empty action posts
    to the page itself)."""
    target = urlsplit(target_url).path
    for form in post_forms(html):
        action = urlsplit(form.action).path if form.action else urlsplit(page_url).path
        if action == target:
            return form
    raise LookupError(f"no form posting to {target_url} on {page_url}")
