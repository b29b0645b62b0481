"""The dispensing list's rows and cells (dispensary/rows.py) in Django templates:
``{% dispensing_rows states %}`` on the list, and the cells of one prescription on the pages
of one patient (``{% dose_missed state %}``, ``{% dose_parts state %}``,
``{% dose_actions state next %}``), the same HTML as the list's."""

from django import template
from django.utils.translation import get_language

from dispensary import rows
from mass.rows import as_django_escapes

register = template.Library()


@register.simple_tag(takes_context=True)
def dispensing_rows(context, states, message=None, level="info"):
    """All rows of the list (or the one row an htmx action replaces)."""
    return rows.dispensing_rows(context["request"], states, message=message, level=level)


def _page(context, next: str | None = None) -> rows.DispensingPage:
    """One DispensingPage for the cells of a page (its translations, links, rights), and
    another under ``{% language %}``."""
    key = (rows.DispensingPage, next, get_language())
    if key not in context.render_context:
        context.render_context[key] = rows.DispensingPage(context["request"], next=next,
                                                          hx=False)
    return context.render_context[key]


@register.simple_tag(takes_context=True)
def dose_missed(context, state):
    """The missed days and the hold."""
    return as_django_escapes(_page(context).missed(state))


@register.simple_tag(takes_context=True)
def dose_parts(context, state):
    """Each dose part today, and the closed days that concern the prescription."""
    page = _page(context)
    return as_django_escapes(page.parts(state) + page.closed_days(state))


@register.simple_tag(takes_context=True)
def dose_actions(context, state, next):
    """The one-action buttons, coming back to ``next``."""
    return as_django_escapes(_page(context, next).actions(state))
