from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from labs.models import Genotype, LabTest, Reading, Substance, Treatment

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LabResultForm(forms.Form):
    """One result typed in. What depends on the test (a reading, a genotype, substances) is
    checked by the service (labs.services.lab_result_build), the same rules as an import."""

    test = forms.ChoiceField(label=_("Test"), choices=LabTest.choices)
    sample_date = forms.DateField(label=_("Sample date"), widget=DATE_INPUT)
    reading = forms.ChoiceField(label=_("Result"), required=False,
                                choices=[("", "—"), *Reading.choices])
    value = forms.DecimalField(label=_("Value"), required=False, max_digits=14,
                               decimal_places=3)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False,
                           help_text=_("Required with a value (IU/mL, mIU/mL...)."))
    reference_low = forms.DecimalField(label=_("Reference range from"), required=False,
                                       max_digits=14, decimal_places=3)
    reference_high = forms.DecimalField(label=_("Reference range to"), required=False,
                                        max_digits=14, decimal_places=3)
    genotype = forms.ChoiceField(label=_("Genotype (HCV genotype test)"), required=False,
                                 choices=[("", "—"), *Genotype.choices])
    substances = forms.MultipleChoiceField(
        label=_("Substances found (urine drug screen)"), required=False,
        choices=Substance.choices, widget=forms.CheckboxSelectMultiple)
    laboratory = forms.CharField(label=_("Laboratory"), max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("sample_date", timezone.localdate())

    def clean_sample_date(self):
        value = self.cleaned_data.get("sample_date")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The sample date cannot be later than today."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("value") is not None and not (data.get("unit") or "").strip():
            self.add_error("unit", _("Give the unit of the value."))
        return data


class TreatmentForm(forms.Form):
    condition = forms.ChoiceField(label=_("Condition"), choices=Treatment.Condition.choices)
    regimen = forms.ChoiceField(label=_("Treatment"), choices=Treatment.Regimen.choices)
    centre = forms.CharField(label=_("Followed at"), max_length=120, required=False)
    started_on = forms.DateField(label=_("Started on"), widget=DATE_INPUT)

    def clean_started_on(self):
        value = self.cleaned_data.get("started_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The start cannot be later than today."))
        return value


class TreatmentEndForm(forms.Form):
    ended_on = forms.DateField(label=_("Ended on"), widget=DATE_INPUT)


class LabImportForm(forms.Form):
    file = forms.FileField(
        label=_("Lab file (CSV)"),
        help_text=_("Columns: file_number, test, sample_date, result, value, unit, "
                    "reference_low, reference_high, laboratory. Every line is imported, or "
                    "none."))

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB: split it."))
        return upload
