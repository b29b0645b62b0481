"""Writes on second factors and login lockouts. Each is one transaction with its audit row
(except where django-otp's throttling must be committed even when a code is refused)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mass.accounts.security import recovery_code_digest
from mass.audit import Action, audit_record
from mass.models import RecoveryCodeDevice, User

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The not yet confirmed authenticator of ``user``, made on first call so that the QR
    code stays the same when the page is reloaded. It opens nothing until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, code: str, actor) -> list[str] | None:
    """Confirm ``device`` with the first code it shows. It replaces any earlier authenticator,
    and new recovery codes replace the old ones; returns them (shown once), or None when the
    code is wrong (nothing changes but the device's failure count)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, confirmed=False)
        if not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        codes = _recovery_codes_replace(device.user)
        audit_record(actor=actor, action=Action.UPDATE, obj=device.user,
                     summary=gettext_noop("second factor set up by %(username)s"),
                     params={"username": device.user.username})
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User, actor) -> list[str]:
    codes = _recovery_codes_replace(user)
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("new recovery codes for %(username)s"),
                 params={"username": user.username})
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    """Ten new codes, returned to be shown once; only their keyed hashes are stored."""
    StaticDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()  # 8 characters of base32: 40 random bits
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_digest(c, device_pk=device.pk))
        for c in codes)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_verify(*, user: User, code: str):
    """Check a code given after the password: six digits against the authenticator, anything
    else against the recovery codes (a recovery code is used up). Returns the device that
    accepted it, or None. Every attempt is audited; django-otp slows down repeated failures
    (1, 2, 4, 8... seconds) per device. The failure counts must stay when a code is refused,
    so a refusal is committed too."""
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:
            devices = TOTPDevice.objects.filter(user=user, confirmed=True)
            accepted_summary = gettext_noop("second factor: authenticator")
            refused_summary = gettext_noop("second factor refused: authenticator")
        else:
            devices = RecoveryCodeDevice.objects.filter(user=user, confirmed=True)
            accepted_summary = gettext_noop("second factor: recovery code")
            refused_summary = gettext_noop("second factor refused: recovery code")
        accepted = None
        for device in devices.select_for_update():
            if device.verify_token(code):
                accepted = device
                break
        if accepted is not None:
            audit_record(actor=user, action=Action.LOGIN, summary=accepted_summary)
        else:
            audit_record(actor=None, action=Action.LOGIN_FAILED, username=user.username,
                         summary=refused_summary)
    return accepted


@transaction.atomic
def second_factor_reset(*, user: User, actor) -> None:
    """A coordinator removes a member's authenticator and recovery codes (lost phone): the
    member sets up a new one at the next login. Every open session of the member ends.
    Never one's own: a stolen coordinator password would otherwise shed the second factor
    that guards it; another coordinator does it."""
    from django.utils.translation import gettext as _

    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("You cannot remove your own second factor: another "
                                "coordinator does it."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.security_stamp = F("security_stamp") + 1
    user.save(update_fields=["security_stamp"])
    user.refresh_from_db(fields=["security_stamp"])
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("second factor reset for %(username)s"),
                 params={"username": user.username})


@transaction.atomic
def lockout_reset(*, username: str, actor) -> int:
    """Lift the login lockout of ``username`` (all addresses) before its cool-off ends."""
    from axes.models import AccessAttempt
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    user = User.objects.filter(username=username).first()
    audit_record(actor=actor, action=Action.UPDATE, obj=user,
                 summary=gettext_noop("login lockout lifted for %(username)s"),
                 params={"username": username[:150]},
                 details={"attempt_records": count})
    return count
