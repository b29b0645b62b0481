from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from clinical.models import ProblemVersion
from clinical.rules import MEASURES

V = ProblemVersion


class ProblemForm(forms.Form):
    """A problem of the list: an ICD-10 code (checked by the service) or words, or both."""

    code = forms.CharField(
        label=_("ICD-10 code"), max_length=8, required=False,
        help_text=_("E.g. F11.2. Search above by code or English words; leave empty for a "
                    "problem in words only."))
    label = forms.CharField(
        label=_("Label"), max_length=200, required=False,
        help_text=_("In your words and language (the ICD-10 labels are in English). Required "
                    "without a code."))
    onset = forms.DateField(label=_("Onset"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"),
                               choices=V.Status.choices, initial=V.Status.ACTIVE)
    certainty = forms.ChoiceField(label=_("Certainty"),
                                  choices=V.Certainty.choices, initial=V.Certainty.CONFIRMED)
    psychiatric = forms.BooleanField(
        label=_("Psychiatric (read by psychiatrists and psychologists only)"), required=False,
        help_text=_("For a problem without a code; a code decides by itself (ICD-10 chapter F, "
                    "except F10–F19, is psychiatric)."))


class ProblemCorrectForm(ProblemForm):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=300,
                             error_messages={"required": _("Say why the problem is corrected.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The discipline of a problem is fixed (clinical.rules).
        del self.fields["psychiatric"]


class MeasurementForm(forms.Form):
    """Measures taken at one time: each optional, at least one (the service checks the
    plausible ranges, so the message names the measure and its range)."""

    taken_on = forms.DateField(label=_("Taken on"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Empty: now. An ECG read elsewhere: its date."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for measure in MEASURES:
            label = f"{capfirst(measure.label)} ({measure.unit})"
            if measure.field in ("weight_kg", "temperature_c"):
                field = forms.DecimalField(label=label, decimal_places=1, required=False)
            else:
                field = forms.IntegerField(label=label, required=False)
            field.widget.attrs["inputmode"] = "decimal"
            self.fields[measure.field] = field

    def values(self) -> dict:
        return {measure.field: self.cleaned_data.get(measure.field) for measure in MEASURES}


class Icd10SearchForm(forms.Form):
    q = forms.CharField(label=_("Search ICD-10 by code or English words"), max_length=100,
                        required=False)


class MeasurementWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is withdrawn"), max_length=300,
        help_text=_("E.g. “QTc mistyped: 420, not 520”, “another patient's weight”."),
        error_messages={"required": _("Say why the measurement is withdrawn.")})
