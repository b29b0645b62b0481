"""A safety net under every app: no new record may be attached to a merged stub.

Services refuse it with a clear message first (patients.services.patient_check_open); this
catches any code path that forgot, for every model with a foreign key to Patient.
"""

from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

EXEMPT = {"mass.auditevent", "patients.patient", "patients.patientmerge"}


def refuse_records_on_merged_files(sender, instance, raw=False, **kwargs):
    if raw or not instance._state.adding or sender._meta.label_lower in EXEMPT:
        return
    from patients.models import Patient
    for field in sender._meta.concrete_fields:
        if not (field.is_relation and field.related_model is Patient):
            continue
        patient_id = getattr(instance, field.attname)
        if patient_id is None:
            continue
        cached = field.get_cached_value(instance, default=None)
        if cached is not None and cached.pk == patient_id:
            merged = cached.status == Patient.Status.MERGED
        else:
            merged = Patient.objects.filter(pk=patient_id,
                                            status=Patient.Status.MERGED).exists()
        if merged:
            raise ValidationError(
                _("This file was merged into another file: record this on the kept file."),
                code="merged")


def connect() -> None:
    pre_save.connect(refuse_records_on_merged_files,
                     dispatch_uid="patients.refuse_records_on_merged_files")
