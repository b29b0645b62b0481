from django import forms
from django.utils.translation import gettext_lazy as _

from mass.models import OpeningHours, Site


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "kind", "address", "phone", "is_active", "closed_on_public_holidays"]


def _time_input():
    return forms.TimeInput(attrs={"type": "time", "class": "form-control form-control-sm"},
                           format="%H:%M")


class OpeningHoursForm(forms.Form):
    """The weekly hours of a site, one opening and one closing time per weekday; a weekday
    left empty is a closed day."""

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = {}
        if site is not None and site.pk:
            for hours in site.opening_hours.order_by("weekday", "opens"):
                current.setdefault(hours.weekday, (hours.opens, hours.closes))
        for day, label in OpeningHours.Weekday.choices:
            opens, closes = current.get(day, (None, None))
            self.fields[f"opens_{day}"] = forms.TimeField(
                label=_("%(weekday)s opens") % {"weekday": label}, required=False,
                initial=opens, widget=_time_input())
            self.fields[f"closes_{day}"] = forms.TimeField(
                label=_("%(weekday)s closes") % {"weekday": label}, required=False,
                initial=closes, widget=_time_input())

    def weekdays(self):
        """(label, opens field, closes field) per weekday, for the template's table."""
        return [(label, self[f"opens_{day}"], self[f"closes_{day}"])
                for day, label in OpeningHours.Weekday.choices]

    def clean(self):
        cleaned = super().clean()
        hours = {}
        for day, _label in OpeningHours.Weekday.choices:
            opens, closes = cleaned.get(f"opens_{day}"), cleaned.get(f"closes_{day}")
            if f"opens_{day}" in self.errors or f"closes_{day}" in self.errors:
                continue
            if opens is None and closes is None:
                continue  # closed that day
            if opens is None or closes is None:
                self.add_error(f"opens_{day}" if opens is None else f"closes_{day}",
                               _("Give both times, or neither for a closed day."))
            elif opens >= closes:
                self.add_error(f"closes_{day}", _("Closes after it opens."))
            else:
                hours[day] = (opens, closes)
        if not hours and not self.errors:
            raise forms.ValidationError(
                _("Give the hours of at least one day: a site open on no day cannot be "
                  "visited. For a day off, record a closure."), code="never_open")
        cleaned["hours"] = hours
        return cleaned


class SiteClosureForm(forms.Form):
    first_day = forms.DateField(label=_("First closed day"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label=_("Last closed day"),
                               widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             help_text=_("Shown on the dispensing list, e.g. “staff day”."))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last closed day is before the first one."))
        return cleaned
