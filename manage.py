#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError:
        # No database: when the reason is the embedded server not started (`make db` starts
        # it; the settings never do), say so instead of psycopg's socket path.
        from mass.database.embedded import not_running_message

        message = not_running_message()
        if message is None:
            raise
        sys.exit(message)


if __name__ == "__main__":
    main()
