"""How one app asks the others for something without importing them by name: an app that
has something to say provides a function in one of its modules (for instance
``<app>.selectors.contact_day_querysets`` for the yearly figures, or
``<app>.services.merge_conflicts`` before two patient files are merged)."""

import importlib
from collections.abc import Callable


def app_function(app: str, module: str, name: str) -> Callable | None:
    """``<app>.<module>.<name>``, or None when the app has no such module or function (an
    import error inside that module is raised, not hidden)."""
    try:
        found = importlib.import_module(f"{app}.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"{app}.{module}":
            raise
        return None
    return getattr(found, name, None)
