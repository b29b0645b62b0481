"""Corrections as new rows: a group attendance or a screening test recorded by mistake is
cancelled by a row of its own (who, when, why), one per record; a screening result is
amended by a new row, the latest being the current result. All append-only. (The 6-month
rule leaves cancelled attendances out: patients 0013.)
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from mass.database.roles import append_only


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0002_history_kept_and_roles'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GroupAttendanceCancellation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('cancelled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='cancelled at')),
                ('attendance', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='cancellation', to='consultations.groupattendance', verbose_name='group attendance')),
                ('cancelled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
            ],
            options={
                'verbose_name': 'group attendance cancellation',
                'verbose_name_plural': 'group attendance cancellations',
                'ordering': ['-cancelled_at', '-id'],
                'abstract': False,
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='consultations_groupattendancecancellation_reason_set')],
            },
        ),
        migrations.CreateModel(
            name='ScreeningResultAmendment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('result', models.CharField(choices=[('pending', 'Pending'), ('negative', 'Negative'), ('positive', 'Positive'), ('indeterminate', 'Indeterminate')], max_length=15, verbose_name='result')),
                ('result_date', models.DateField(verbose_name='result known on')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded at')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('screening', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='amendments', to='consultations.screeningtest', verbose_name='screening test')),
            ],
            options={
                'verbose_name': 'screening result amendment',
                'verbose_name_plural': 'screening result amendments',
                'ordering': ['created_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('result__in', ['negative', 'positive', 'indeterminate'])), name='consultations_screeningresultamendment_result_valid'), models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='consultations_screeningresultamendment_reason_set')],
            },
        ),
        migrations.CreateModel(
            name='ScreeningTestCancellation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('cancelled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='cancelled at')),
                ('cancelled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                ('screening', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='cancellation', to='consultations.screeningtest', verbose_name='screening test')),
            ],
            options={
                'verbose_name': 'screening test cancellation',
                'verbose_name_plural': 'screening test cancellations',
                'ordering': ['-cancelled_at', '-id'],
                'abstract': False,
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='consultations_screeningtestcancellation_reason_set')],
            },
        ),
        append_only("consultations_groupattendancecancellation"),
        append_only("consultations_screeningtestcancellation"),
        append_only("consultations_screeningresultamendment"),
    ]
