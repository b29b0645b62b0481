"""Staff change a password a coordinator set (``must_change_password``, False for every
existing account); recovery codes are kept as keyed hashes. The codes already handed out
are hashed in place, so nobody has to print new ones."""

from django.db import migrations, models


def hash_clear_recovery_codes(apps, schema_editor):
    # The digest of mass.accounts.security.recovery_code_digest at the time of writing, copied so
    # that a later change of that function does not change what this migration did.
    from django.utils.crypto import salted_hmac

    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all().iterator():
        if len(token.token) == 16:
            continue  # hashed already (the clear codes have 8 characters)
        token.token = salted_hmac(f"mass.recovery_code.{token.device_id}", token.token.lower(),
                                  algorithm="sha256").hexdigest()[:16]
        token.save(update_fields=["token"])


class Migration(migrations.Migration):

    dependencies = [
        ('mass', '0006_site_closures'),
        ('otp_static', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='RecoveryCodeDevice',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('otp_static.staticdevice',),
        ),
        migrations.AddField(
            model_name='user',
            name='must_change_password',
            field=models.BooleanField(default=False, editable=False, verbose_name='must change password'),
        ),
        # Not reversible to clear codes: going back, the members make new ones.
        migrations.RunPython(hash_clear_recovery_codes, migrations.RunPython.noop),
    ]
