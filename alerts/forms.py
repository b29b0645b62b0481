from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert


class AlertForm(forms.Form):
    """Record an alert: the kinds offered are those the user records (alerts.rules)."""

    kind = forms.ChoiceField(label=_("Kind"), error_messages={
        "required": _("Choose the kind of alert."),
        "invalid_choice": _("Choose one of the kinds of alert you may record.")})
    text = forms.CharField(label=Alert._meta.get_field("text").verbose_name, max_length=200,
                           help_text=Alert._meta.get_field("text").help_text,
                           error_messages={"required": _("Say in a few words what to know.")})

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Alert.Kind.choices)
        self.fields["kind"].choices = [("", "—")] + [(kind, labels[kind]) for kind in kinds]


class AlertEndForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it ends"), max_length=300,
        help_text=_("E.g. “seen by Dr … today, dose confirmed”, “allergy ruled out”."),
        error_messages={"required": _("Say why the alert ends.")})
