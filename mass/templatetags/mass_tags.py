from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs):
    """The current query string with some parameters replaced (pagination keeps filters)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        query[key] = value
    return query.urlencode()


@register.filter
def role_label(code):
    """A role's name in the reader's language, from its code (a group's name): "Social
    worker", never "social_worker"."""
    from mass.accounts.roles import Role
    return Role(code).label if code in Role.values else code
