import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from mass.accounts import security_services

PASSWORD = "test-password-123"  # tests.factories.UserFactory


@pytest.fixture
def two_factor_on(settings):
    """The production rule: the test settings switch it off for the rest of the suite."""
    settings.MASS_REQUIRE_2FA = True
    return settings


def password_login(client, user, **extra):
    """The real login form (django-axes and the audit see it), not force_login."""
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD},
                       **extra)


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Give ``user`` a confirmed authenticator and recovery codes, as the set-up page does."""
    device = security_services.totp_device_pending(user=user)
    codes = security_services.totp_device_confirm(device=device, code=current_code(device),
                                                  actor=user)
    device.refresh_from_db()
    return device, codes


def current_code(device: TOTPDevice) -> str:
    """The code the phone shows now. The device refuses a code of a time step it has already
    accepted (replay), so tests that log in twice within 30 seconds call ``fresh_code``."""
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{code:06d}"


def fresh_code(device: TOTPDevice) -> str:
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return current_code(device)
