from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from mass.accounts.roles import Role
from mass.models import User


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
