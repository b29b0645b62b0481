"""Walk the URL resolver so that tests cover every URL, including ones added later."""

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_ARGS = {"int": "1", "str": "x", "slug": "x", "path": "x",
               "uuid": "00000000-0000-0000-0000-000000000000"}


def iter_url_patterns(resolver=None, prefix="", namespace=""):
    """Yield (name, route) for every URL pattern, with converters filled by sample values."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from iter_url_patterns(entry, prefix + route, ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", fill_route(prefix + route, entry)


def fill_route(route: str, pattern) -> str:
    import re
    def sample(match):
        converter = match.group(1) or "str"
        return SAMPLE_ARGS.get(converter, "1")
    route = re.sub(r"<(?:(\w+):)?\w+>", sample, route)
    return "/" + route.lstrip("^").rstrip("$")
