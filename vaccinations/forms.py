from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vaccinations.models import VACCINE_SCHEDULES, Schedule, Vaccine

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_in_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date given cannot be later than today."))
    return value


class DoseForm(forms.Form):
    number = forms.IntegerField(label=_("Dose number"), min_value=1, max_value=20)
    date = forms.DateField(label=_("Date given"), widget=DATE_INPUT)
    product = forms.CharField(label=_("Product"), max_length=80, required=False)
    batch = forms.CharField(label=_("Batch"), max_length=40, required=False)

    def __init__(self, *args, next_number: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())
        self.initial.setdefault("number", next_number)

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))


class CourseStartForm(forms.Form):
    vaccine = forms.ChoiceField(label=_("Vaccine"), choices=Vaccine.choices)
    schedule = forms.ChoiceField(
        label=_("Schedule"), choices=Schedule.choices,
        help_text=_("Hepatitis B: the accelerated schedule for people hard to reach "
                    "(days 0, 7 and 21, then 12 months)."))
    date = forms.DateField(label=_("First dose given on"), widget=DATE_INPUT)
    product = forms.CharField(label=_("Product"), max_length=80, required=False)
    batch = forms.CharField(label=_("Batch"), max_length=40, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))

    def clean(self):
        data = super().clean()
        vaccine, schedule = data.get("vaccine"), data.get("schedule")
        if vaccine and schedule and schedule not in VACCINE_SCHEDULES[vaccine]:
            self.add_error("schedule", _("This schedule is not one of this vaccine's."))
        return data
