from django.conf import settings

from mass.accounts.roles import user_roles
from mass.navigation import sections_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": [], "demo_mode": settings.DEMO}
    sections = sections_for(user)
    return {
        "nav_sections": [section for section in sections if not section.occasional],
        "nav_occasional": [section for section in sections if section.occasional],
        "user_roles": user_roles(user),
        "demo_mode": settings.DEMO,
    }
