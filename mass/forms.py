from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from mass.accounts.roles import Role
from mass.models import OpeningHours, Site, User


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=Role.choices, label=_("Roles"), **kwargs)


class StaffCreateForm(forms.ModelForm):
    roles = RolesField()
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput,
                               strip=False,
                               help_text=password_validation.password_validators_help_text_html())

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "language"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        candidate = User(username=self.cleaned_data.get("username", ""),
                         first_name=self.cleaned_data.get("first_name", ""),
                         last_name=self.cleaned_data.get("last_name", ""))
        password_validation.validate_password(password, candidate)
        return password


class StaffUpdateForm(forms.ModelForm):
    roles = RolesField(required=False)
    reception_lead = forms.BooleanField(
        label=_("Reception lead: may merge duplicate patient files"), required=False,
        help_text=_("Only for a member of reception; coordinators merge files anyway."))

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "is_active"]

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.fields["roles"].initial = list(self.instance.groups.values_list("name", flat=True))
        self.fields["reception_lead"].initial = self.instance.is_reception_lead

    def clean(self):
        cleaned = super().clean()
        roles = set(cleaned.get("roles") or [])
        if cleaned.get("reception_lead") and Role.RECEPTION not in roles:
            self.add_error("reception_lead", _("A reception lead has the reception role."))
        if self.editor is not None and self.editor.pk == self.instance.pk:
            # Rights are given by someone else, so that no one widens their own access to
            # patient files (the audit trail shows who gave which rights to whom).
            before = set(self.instance.groups.values_list("name", flat=True))
            if (roles != before or not cleaned.get("is_active", True)
                    or bool(cleaned.get("reception_lead")) != self.instance.is_reception_lead):
                raise forms.ValidationError(
                    _("You cannot change your own roles or deactivate your own account: "
                      "another coordinator does it."), code="own_rights")
        return cleaned


class StaffPasswordForm(SetPasswordForm):
    pass


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=500)


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


class AuditPeriodForm(forms.Form):
    """The period of a "who read my file" answer (mass.views.audit_patient_print)."""

    # A date input takes ISO dates only: the localised format would leave it empty.
    since = forms.DateField(label=_("From"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(label=_("To"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The period ends before it begins."))
        return data


class CancellationForm(forms.Form):
    """The reason for cancelling an entry recorded by mistake (mass.corrections)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why this entry is cancelled.")},
        help_text=_("E.g. logged on the wrong file, entered twice."))
