"""Filters of the printed documents (templates/printing/). They return text evaluated where
they are used, so inside ``{% language %}`` a role reads in the document's language."""

from django import template

from mass.accounts.roles import Role, user_roles
from mass.audit.summaries import ACTION_WORDS

register = template.Library()


@register.filter
def role_names(user) -> str:
    """A staff member's roles in words ("Doctor, Psychiatrist")."""
    return ", ".join(str(role.label) for role in user_roles(user)) if user else ""


@register.filter
def role_labels(codes) -> str:
    """Role codes (as stored on a group) in words."""
    return ", ".join(str(Role(code).label) for code in codes if code in Role.values)


@register.filter
def action_words(action: str) -> str:
    """An audit action as a letter to the patient says it ("read", "changed")."""
    return str(ACTION_WORDS.get(action, action))
