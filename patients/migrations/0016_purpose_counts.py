"""Walk-ins counted by day and purpose, kept by the database (patients/triggers.py, with
their owner's rights: the application's role only reads the counts), for what the centre
usually comes for; the counts of the walk-ins already recorded written once, after the rules
are in place (the tables they watch stay locked until the migration commits)."""

import mass.database.triggers
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0015_ledger_rows_move_only_by_a_merge'),
    ]

    operations = [
        migrations.CreateModel(
            name='PurposeCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField()),
                ('purpose', models.CharField(choices=[('consultation', 'Consultation'), ('dispensing', 'Dispensing'), ('social', 'Social'), ('harm_reduction', 'Harm-reduction material'), ('hygiene', 'Shower, laundry, rest'), ('other', 'Other')], max_length=20)),
                ('walk_ins', models.IntegerField()),
            ],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='purpose_count_insert', sql=mass.database.triggers.OwnerRuleSql(func='\nINSERT INTO patients_purposecount AS pc (date, purpose, walk_ins)\nSELECT date, purpose, sum(n) FROM (SELECT date, purpose, 1 FROM new_rows AS t WHERE NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = t.id)) AS delta(date, purpose, n)\n GROUP BY date, purpose HAVING sum(n) <> 0 ORDER BY date, purpose\n    ON CONFLICT (date, purpose) DO UPDATE SET walk_ins = pc.walk_ins + excluded.walk_ins;\nRETURN NULL;\n', hash='e4b008cc764d39a5b0206694978acd8f5fd88d1e', level='STATEMENT', operation='INSERT', pgid='pgtrigger_purpose_count_insert_281fb', referencing='REFERENCING NEW TABLE AS new_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='purpose_count_update', sql=mass.database.triggers.OwnerRuleSql(func='\nINSERT INTO patients_purposecount AS pc (date, purpose, walk_ins)\nSELECT date, purpose, sum(n) FROM (SELECT date, purpose, 1 FROM new_rows AS t WHERE NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = t.id) UNION ALL SELECT date, purpose, -1 FROM old_rows AS t WHERE NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = t.id)) AS delta(date, purpose, n)\n GROUP BY date, purpose HAVING sum(n) <> 0 ORDER BY date, purpose\n    ON CONFLICT (date, purpose) DO UPDATE SET walk_ins = pc.walk_ins + excluded.walk_ins;\nRETURN NULL;\n', hash='af8bf531691437cf9145b7f9b03ac14b8690965a', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_purpose_count_update_98c02', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='purpose_count_delete', sql=mass.database.triggers.OwnerRuleSql(func='\nINSERT INTO patients_purposecount AS pc (date, purpose, walk_ins)\nSELECT date, purpose, sum(n) FROM (SELECT date, purpose, -1 FROM old_rows AS t WHERE NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = t.id)) AS delta(date, purpose, n)\n GROUP BY date, purpose HAVING sum(n) <> 0 ORDER BY date, purpose\n    ON CONFLICT (date, purpose) DO UPDATE SET walk_ins = pc.walk_ins + excluded.walk_ins;\nRETURN NULL;\n', hash='751291f7d55ce3ad4277396989fb25e1f9b77336', level='STATEMENT', operation='DELETE', pgid='pgtrigger_purpose_count_delete_c83b2', referencing='REFERENCING OLD TABLE AS old_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visitcancellation',
            trigger=pgtrigger.compiler.Trigger(name='purpose_count_insert', sql=mass.database.triggers.OwnerRuleSql(func='\nINSERT INTO patients_purposecount AS pc (date, purpose, walk_ins)\nSELECT date, purpose, sum(n) FROM (SELECT v.date, v.purpose, -1 FROM new_rows AS x JOIN patients_visit AS v ON v.id = x.visit_id) AS delta(date, purpose, n)\n GROUP BY date, purpose HAVING sum(n) <> 0 ORDER BY date, purpose\n    ON CONFLICT (date, purpose) DO UPDATE SET walk_ins = pc.walk_ins + excluded.walk_ins;\nRETURN NULL;\n', hash='6261962f970902448e85bf1b7f80bbb7d01fb415', level='STATEMENT', operation='INSERT', pgid='pgtrigger_purpose_count_insert_86c3c', referencing='REFERENCING NEW TABLE AS new_rows ', table='patients_visitcancellation', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='purposecount',
            constraint=models.UniqueConstraint(fields=('date', 'purpose'), name='patients_purposecount_day_purpose'),
        ),
        migrations.RunSQL(
            """INSERT INTO patients_purposecount (date, purpose, walk_ins)
               SELECT date, purpose, count(*) FROM patients_visit AS v
                WHERE NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x
                                   WHERE x.visit_id = v.id)
                GROUP BY date, purpose""",
            reverse_sql=migrations.RunSQL.noop),
    ]
