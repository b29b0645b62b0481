"""Filters of the logging configuration (mass/config/settings.py, LOGGING)."""

import logging

#: Refusals the application expects every day (a role without a page, a file the user may not
#: read, a malformed request): the log wants one line each, not the traceback of the
#: exception that made them.
EXPECTED_REFUSALS = {400, 403, 404}


class ExpectedRefusalFilter(logging.Filter):
    """On ``django.request``: a 400/403/404 record is kept, without its traceback. A 500
    keeps its traceback: that one is a bug to read."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in EXPECTED_REFUSALS:
            record.exc_info = None
            record.exc_text = None
        return True
