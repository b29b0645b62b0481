"""Active alerts as small red lines under a person's name, on the busy lists (the dispensing
list: dispensary/rows.py; the reception board and search: patients/rows.py), rendered by
templates/jinja2/alerts/lines.html."""

from django.utils.safestring import SafeString

from alerts.models import Alert
from mass.rows import as_django_escapes, macros


class AlertLines:
    """One per page: the kinds' labels; called with a person's alerts."""

    def __init__(self):
        self.labels = dict(Alert.Kind.choices)
        self.template = macros("alerts/lines.html")
        # A line made once a page: many rows say the same ("ECG due" at the same dose).
        self.lines: dict[tuple[str, str], SafeString] = {}

    def __call__(self, alerts, kinds=None) -> SafeString:
        """The lines of ``alerts`` (of ``kinds`` only, when given), "" when none."""
        return SafeString("".join(self._line(alert.kind, str(alert.text))
                                  for alert in alerts or ()
                                  if kinds is None or alert.kind in kinds))

    def _line(self, kind: str, text: str) -> SafeString:
        key = (kind, text)
        if key not in self.lines:
            self.lines[key] = as_django_escapes(self.template.line(
                kind, self.labels.get(kind, kind), text))
        return self.lines[key]
