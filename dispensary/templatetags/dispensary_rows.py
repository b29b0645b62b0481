"""``{% dispensing_rows states %}``: the rows of today's dispensing list (dispensary/rows.py)."""

from django import template

from dispensary import rows

register = template.Library()


@register.simple_tag(takes_context=True)
def dispensing_rows(context, states, message=None, level="info"):
    """All rows of the list (or the one row an htmx action replaces)."""
    return rows.dispensing_rows(context["request"], states, message=message, level=level)
