import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from mass.models import AuditEvent, User


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("username"), label=_("Staff member"))
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, label=_("Action"))
    patient = django_filters.NumberFilter(field_name="patient_id", label=_("Patient id"),
                                          widget=forms.NumberInput(attrs={"min": 1}))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte",
                                      label=_("From"),
                                      widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"),
                                      widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "patient", "since", "until"]


def audit_event_list(*, data) -> AuditEventFilter:
    queryset = AuditEvent.objects.select_related("actor", "patient")
    return AuditEventFilter(data, queryset=queryset)


def audit_patient(event_filter: AuditEventFilter):
    """The patient the audit trail is filtered on, if any (a merged stub's reads are its
    own; its kept file's page lists them too)."""
    from patients.models import Patient
    if not event_filter.is_bound or not event_filter.form.is_valid():
        return None
    patient_id = event_filter.form.cleaned_data.get("patient")
    if not patient_id:
        return None
    return Patient.objects.filter(pk=patient_id).first()


def audit_readers_of_patient(*, patient) -> list[dict]:
    """Who read this file, and when last (Belgian patient-rights law, art. 9 and 10).

    Reads of files merged into this one count too: they were reads of the same person.
    """
    from django.db.models import Count, Max
    ids = [patient.pk, *patient.merged_files.values_list("pk", flat=True)]
    return list(
        AuditEvent.objects.filter(patient_id__in=ids, action=AuditEvent.Action.VIEW)
        .values("actor__username", "actor__first_name", "actor__last_name")
        .annotate(reads=Count("id"), last_read=Max("at"))
        .order_by("-last_read")
    )


def staff_list():
    from django.contrib.auth.models import Permission
    from django.db.models import Prefetch
    merge = Permission.objects.filter(content_type__app_label="patients",
                                      codename="merge_patient")
    return (User.objects.prefetch_related(
        "groups", Prefetch("user_permissions", queryset=merge, to_attr="merge_rights"))
        .order_by("-is_active", "username"))
