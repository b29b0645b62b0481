from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form; kept as our own class so later hardening (lockout, second
    factor) has one place to go."""
