from django import template
from django.utils import formats

register = template.Library()


@register.filter
def figure(value, average: bool = False) -> str:
    """A figure as seed 000 prints it: whole numbers with thousands grouped, averages rounded
    to a whole number (the exact value is in the JSON and the spreadsheet)."""
    if value is None:
        return "—"
    if average or isinstance(value, float):
        value = round(value)
    return formats.number_format(value, force_grouping=True)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=1) + " %"
