from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's login form. django-axes checks the lockout inside ``authenticate``; the
    second factor comes on its own page after this one (mass.accounts.security_views)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the username's max_length after building the field, so no validator
        # enforces it: a longer name reached authenticate() and django-axes, whose
        # varchar(255) column refused it (a server error on the login page).
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


def normalise_code(code: str) -> str:
    """Codes are typed from a phone or a sheet of paper: spaces, dashes and case don't count."""
    return "".join(code.split()).replace("-", "").lower()


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Code"))
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
            "autocapitalize": "off",
        }))
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_code(super().to_python(value))


class SecondFactorForm(forms.Form):
    """The code after the password: six digits from the authenticator app, or one of the
    recovery codes. Checking it has effects (throttling, audit, a recovery code is used up),
    so the check is the service's; the form only carries the outcome."""

    code = CodeField(help_text=_("The 6 digits shown by your authenticator app, or one of "
                                 "your recovery codes."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean(self):
        from mass.accounts.security_services import second_factor_verify
        cleaned = super().clean()
        code = cleaned.get("code")
        if code:
            self.device = second_factor_verify(user=self.user, code=code)
            if self.device is None:
                raise forms.ValidationError(
                    _("This code is not valid (or was already used). Wait a few seconds "
                      "and try again."), code="invalid_code")
        return cleaned


class AuthenticatorConfirmForm(forms.Form):
    """Setting up an authenticator: the first code it shows proves it holds the secret."""

    code = CodeField(help_text=_("The 6 digits your authenticator app shows now."))

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits of your authenticator app."),
                                        code="invalid_code")
        return code


class LockoutResetForm(forms.Form):
    username = forms.CharField(max_length=150)
