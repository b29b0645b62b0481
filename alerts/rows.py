"""Active alerts as small red lines under a person's name, for the rows rendered in Python
(the dispensing list: dispensary_rows; the reception board and search: reception_rows)."""

from alerts.models import Alert
from mass.html import e


class AlertLines:
    """One per page: the kinds' labels, escaped once; called with a person's alerts."""

    def __init__(self):
        self.labels = {kind: e(label) for kind, label in Alert.Kind.choices}
        # A line made once a page: many rows say the same ("ECG due" at the same dose).
        self.lines: dict[tuple[str, str], str] = {}

    def __call__(self, alerts, kinds=None) -> str:
        """The lines of ``alerts`` (of ``kinds`` only, when given), "" when none."""
        return "".join(self._line(alert.kind, str(alert.text))
                       for alert in alerts or () if kinds is None or alert.kind in kinds)

    def _line(self, kind: str, text: str) -> str:
        key = (kind, text)
        if key not in self.lines:
            self.lines[key] = (
                f'<div class="small" data-alert="{e(kind)}"><span class="badge '
                f'text-bg-danger">{self.labels.get(kind, e(kind))}</span> {e(text)}</div>')
        return self.lines[key]
