"""How a service refuses, and how a view shows the refusal: one way for every app.

A service that refuses (a rule of the centre, a race the form could not see, a refusal of the
database) raises Django's ``ValidationError`` with the sentence for the user, translated, and
writes nothing. Why ``ValidationError`` rather than an exception of our own (the dispensary's
``Refused``, ``GrantRefused``, ``ClosureRefused`` ... before issue 15): it is what Django's
forms and models already raise for "this input is not accepted", a form takes it as is
(``form.add_error``), it carries a ``code`` for tests and callers to tell refusals apart
without parsing the sentence, and most services already raised it. A refusal the view must
treat apart (the dispensary's ``AboveInductionRules``, which carries the rule to show with a
confirmation) is a subclass of it.

A view catches ``ValidationError`` around the one service it calls and shows the refusal with
:func:`refusal_on_form` when the page has a form, else with :func:`refusal_text` (a message,
an htmx notice).
"""

from django.core.exceptions import ValidationError


def refusal_on_form(form, error: ValidationError, *, field: str | None = None) -> None:
    """The refusal on the form, shown again with what was typed: above its fields, or on
    ``field`` when the refusal is about that one, or under each field it names when the
    service named them (``ValidationError({"date": ...})``)."""
    if field is None and hasattr(error, "error_dict") and set(error.error_dict) <= set(
            form.fields):
        form.add_error(None, error)
        return
    for message in error.messages:
        form.add_error(field, message)


def refusal_text(error: ValidationError) -> str:
    """The refusal as one text, for a message or a notice."""
    return " ".join(error.messages)
