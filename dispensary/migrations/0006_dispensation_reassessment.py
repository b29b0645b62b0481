"""After a dose withheld for signs of intoxication, in the database too (after 0005): a dose
of the substance given later that day must record the new assessment (``reassessment_of``
the last such withheld entry of that day, not cancelled), and no take-home dose is handed on
that day. What services.dispensation_record refuses first, with a sentence."""

import django.db.models.deletion
from django.db import migrations, models

AFTER_INTOXICATION_CHECK = """
CREATE OR REPLACE FUNCTION dispensary_dispensation_after_intoxication() RETURNS trigger AS $$
DECLARE
    v_withheld bigint;
BEGIN
    IF NEW.status <> 'given' THEN
        RETURN NEW;
    END IF;
    SELECT d.id INTO v_withheld
      FROM dispensary_dispensation d
      JOIN dispensary_product dp ON dp.id = d.product_id
     WHERE d.patient_id = NEW.patient_id AND d.dose_date = NEW.date
       AND d.status = 'withheld'
       AND (d.intoxication_signs OR d.withheld_reason = 'intoxication')
       AND dp.substance = (SELECT substance FROM dispensary_product WHERE id = NEW.product_id)
       AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation c
                        WHERE c.dispensation_id = d.id)
     ORDER BY d.id DESC LIMIT 1;
    IF v_withheld IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.dose_date > NEW.date THEN
        RAISE EXCEPTION 'dispensation: no take-home dose on % (dose % withheld for %)',
            NEW.date, v_withheld, 'intoxication' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.reassessment_of_id IS DISTINCT FROM v_withheld THEN
        RAISE EXCEPTION 'dispensation: dose % withheld for intoxication on %: %', v_withheld,
            NEW.date, 'a new assessment must be recorded' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('dispensary', '0005_one_daily_dose_per_substance'),
    ]

    operations = [
        migrations.AddField(
            model_name='dispensation',
            name='reassessment_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dispensary.dispensation', verbose_name='new assessment after'),
        ),
        migrations.RunSQL(
            AFTER_INTOXICATION_CHECK
            + "CREATE TRIGGER dispensary_dispensation_after_intoxication BEFORE INSERT "
              "ON dispensary_dispensation FOR EACH ROW "
              "EXECUTE FUNCTION dispensary_dispensation_after_intoxication();",
            "DROP TRIGGER IF EXISTS dispensary_dispensation_after_intoxication "
            "ON dispensary_dispensation;"
            "DROP FUNCTION IF EXISTS dispensary_dispensation_after_intoxication();"),
    ]
