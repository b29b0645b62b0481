"""Doses given on paper during a network failure (the downtime sheet), recorded afterwards:
the ledger entry says who typed it in and when (``recorded_at``/``recorded_by``, after
``dispensed_at``), and its register entry is marked too. The database rules of a dose
(dispensary_dispensation_check, 0005; 0006) already follow the entry's ``date`` and
``dose_date``, which are the paper's day: nothing to change there. Adding the columns
updates no row (the tables are append-only)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dispensary', '0006_dispensation_reassessment'),
        ('patients', '0011_episode_lapse_recorded'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='dispensation',
            name='recorded_after_the_fact',
            field=models.BooleanField(db_default=False, default=False, verbose_name='recorded after the fact'),
        ),
        migrations.AddField(
            model_name='dispensation',
            name='recorded_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='recorded at'),
        ),
        migrations.AddField(
            model_name='dispensation',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='registerentry',
            name='recorded_after_the_fact',
            field=models.BooleanField(db_default=False, default=False, verbose_name='recorded after the fact'),
        ),
        migrations.AddConstraint(
            model_name='dispensation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('recorded_after_the_fact', False), ('recorded_at__isnull', True), ('recorded_by__isnull', True)), models.Q(('recorded_after_the_fact', True), ('recorded_at__gte', models.F('dispensed_at')), ('recorded_by__isnull', False)), _connector='OR'), name='dispensary_dispensation_after_the_fact_recorded'),
        ),
    ]
