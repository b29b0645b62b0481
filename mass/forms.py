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

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].initial = list(self.instance.groups.values_list("name", flat=True))


class StaffPasswordForm(SetPasswordForm):
    pass


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=500)


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "kind", "address", "phone", "is_active"]
