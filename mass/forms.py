from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from mass.models import Site, User
from mass.roles import Role


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
        fields = ["name", "kind", "address", "phone", "is_active"]
