"""Merging two files with overlapping episodes joins them into one stay (issue 11, part 4):
the joined episode is marked ``joined_into`` and no longer counts (nor holds the "one open
episode per file" place); the merge record lists the joins."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0009_outreach_attempts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='episode',
            name='patients_episode_one_open_per_patient',
        ),
        migrations.AddField(
            model_name='episode',
            name='joined_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='joined_episodes', to='patients.episode', verbose_name='joined by a merge into'),
        ),
        migrations.AddField(
            model_name='patientmerge',
            name='joined_episodes',
            field=models.JSONField(blank=True, default=list, verbose_name='episodes joined'),
        ),
        migrations.AddConstraint(
            model_name='episode',
            constraint=models.UniqueConstraint(condition=models.Q(('closed_on__isnull', True), ('joined_into__isnull', True)), fields=('patient',), name='patients_episode_one_open_per_patient'),
        ),
        migrations.AddConstraint(
            model_name='episode',
            constraint=models.CheckConstraint(condition=models.Q(('joined_into', models.F('pk')), _negated=True), name='patients_episode_not_joined_into_itself'),
        ),
    ]
