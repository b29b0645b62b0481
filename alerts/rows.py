"""Active alerts as small red lines under a person's name, for the rows rendered in Python
(the dispensing list: dispensary_rows; the reception board and search: reception_rows)."""

from alerts.models import Alert
from mass.html import e


class AlertLines:
    """One per page: the kinds' labels, escaped once; called with a person's alerts."""

    def __init__(self):
        self.labels = {kind: e(label) for kind, label in Alert.Kind.choices}

    def __call__(self, alerts, kinds=None) -> str:
        """The lines of ``alerts`` (of ``kinds`` only, when given), "" when none."""
        return "".join(
            f'<div class="small" data-alert="{e(alert.kind)}"><span class="badge '
            f'text-bg-danger">{self.labels.get(alert.kind, e(alert.kind))}</span> '
            f'{e(alert.text)}</div>'
            for alert in alerts or () if kinds is None or alert.kind in kinds)
