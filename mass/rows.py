"""The rows of the busiest lists (the dispensing list, the reception board and its search),
and the pieces they share with other pages (who is this, alert lines), rendered by Jinja2
templates in templates/jinja2/, autoescaped.

Django's template engine spends about 0.4 ms on a dispensing row, for a page of 300 rows
more than the rest of the page; Jinja2 compiles a template to Python and renders such a row
in a fraction of that (docs/benchmarks.md). The pages stay Django templates and call the rows
through a template tag; what repeats from row to row (translations, URLs, formatted doses,
whole cells) is computed once per page in Python and the templates place it.
"""

from functools import cache
from types import SimpleNamespace

import jinja2
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils.safestring import SafeString


class Row(SimpleNamespace):
    """The values of one row (attributes: Jinja2 reads them faster than a dict's keys)."""


def once(store: dict, key, compute):
    """``store[key]``, made by ``compute()`` the first time: what repeats from row to row is
    made once a page (or once a process)."""
    try:
        return store[key]
    except KeyError:
        value = store[key] = compute()
        return value


def _join(pieces) -> str:
    """A template's output pieces joined as plain text. Autoescape yields each value as a new
    Markup, which the garbage collector tracks; joined as they come, the thousands of a
    300-row page were all alive at once (str.join lists them first) and set off a collection
    every 700: converted one by one, each is freed at once."""
    return "".join(map(str, pieces))


def environment(**options) -> jinja2.Environment:
    """The Jinja2 environment of the rows: autoescaped (Django's backend sets it), a variable
    missing from a row an error, not an empty cell."""
    options.update(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env = jinja2.Environment(**options)
    env.concat = _join
    return env


def _template(name: str) -> jinja2.Template:
    # With DEBUG on, looked up each time: an edited template shows on the next request.
    if settings.DEBUG:
        return engines["jinja2"].env.get_template(name)
    return _loaded(name)


@cache
def _loaded(name: str) -> jinja2.Template:
    # Jinja2 caches compiled templates too; this skips its lookup and its check of the
    # file's date on every call.
    return engines["jinja2"].env.get_template(name)


def as_django_escapes(html: str) -> SafeString:
    """The HTML with Django's escapes of the quotes (django.utils.html.escape: ``&quot;``,
    ``&#x27;``) where MarkupSafe writes ``&#34;`` and ``&#39;``, so that the rows read as the
    other pages. Exact: these two entities come only from escaping (an ``&`` typed in a value
    is escaped to ``&amp;``); done once on a whole output, not value by value."""
    return SafeString(str(html).replace("&#34;", "&quot;").replace("&#39;", "&#x27;"))


def render(name: str, **context) -> SafeString:
    """The template ``name`` rendered with ``context``: HTML, safe to put in a page."""
    return as_django_escapes(_template(name).render(context))


def macros(name: str):
    """The macros of the template ``name`` (a template of macros only), as attributes."""
    return _template(name).module


def url_with_pk(name: str):
    """``pk -> reverse(name, args=[pk])``, reversed once for all the rows of a page."""
    head, tail = reverse(name, args=[0]).rsplit("/0/", 1)
    return lambda pk: f"{head}/{pk}/{tail}"
