"""The reception desk's rows for its Django pages (patients/board.html, patients/search.html):
``{% visit_rows %}``, ``{% material_input_rows %}``, ``{% arrival_rows %}`` and
``{% search_rows %}``, rendered by Jinja2 templates (patients/rows.py)."""

from django import template

from patients import rows

register = template.Library()


@register.simple_tag
def visit_rows(visits, can_consult=False, show_photos=False, alerts=None, user=None):
    """The board's walk-ins."""
    return rows.visit_rows(visits, can_consult=can_consult, show_photos=show_photos,
                           alerts=alerts, user=user)


@register.simple_tag
def material_input_rows(form_rows):
    """The harm-reduction form's inputs (HarmReductionForm.rows())."""
    return rows.material_input_rows(form_rows)


@register.simple_tag(takes_context=True)
def arrival_rows(context, results, purposes, episodes=None, show_photos=False, alerts=None,
                 usual=None):
    """The desk's search results, with the buttons that log an arrival."""
    return rows.arrival_rows(results, purposes, csrf_token=context.get("csrf_token"),
                             episodes=episodes, show_photos=show_photos, alerts=alerts,
                             usual=usual)


@register.simple_tag
def search_rows(results, show_photos=False):
    """The patient search's results."""
    return rows.search_rows(results, show_photos=show_photos)
