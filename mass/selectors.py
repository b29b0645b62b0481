import datetime
from dataclasses import dataclass

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from mass.models import AuditEvent, User


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("username"), label=_("Staff member"))
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, label=_("Action"))
    patient = django_filters.NumberFilter(field_name="patient_id", label=_("Patient id"),
                                          widget=forms.NumberInput(attrs={"min": 1}),
                                          method="filter_patient")
    # What a coordinator has in hand when a patient asks who read their file. The events of
    # files merged into it come too, as in "who read this file".
    file_number = django_filters.CharFilter(method="filter_file_number",
                                            label=_("File number"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte",
                                      label=_("From"),
                                      widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"),
                                      widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "patient", "since", "until"]

    def filter_file_number(self, queryset, name, value):
        from django.db.models import Q

        from patients.models import Patient
        number = value.strip()
        ids = list(Patient.objects.filter(Q(file_number__iexact=number)
                                          | Q(merged_into__file_number__iexact=number))
                   .values_list("pk", flat=True))
        return queryset.filter(self._naming(ids))

    def filter_patient(self, queryset, name, value):
        """The rows of the patient's file, and the list pages that named them
        (``mass.audit.audit_list_read``)."""
        if value is None:
            return queryset
        return queryset.filter(self._naming([int(value)]))

    @staticmethod
    def _naming(ids: list[int]):
        from django.db.models import Q
        condition = Q(patient_id__in=ids)
        for pk in ids:
            condition |= Q(details__contains={"patients": [pk]})
        return condition


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
    file_number = (event_filter.form.cleaned_data.get("file_number") or "").strip()
    if patient_id:
        return Patient.objects.filter(pk=patient_id).first()
    if file_number:
        return Patient.objects.filter(file_number__iexact=file_number).first()
    return None


def audit_readers_of_patient(*, patient) -> list[dict]:
    """Who read this file, and when last (Belgian patient-rights law, art. 9 and 10): the
    reads of the file and of its records, and the list pages that named it (a dispensing
    list, a caseload: ``details["patients"]``, see ``mass.audit.audit_list_read``).
    ``hidden`` counts the openings of a note whose text the reader was not shown
    (``details["text_shown"]`` false): they opened it, they did not read it.

    Reads of files merged into this one count too: they were reads of the same person.
    """
    from django.db.models import Count, Max, Q
    ids = [patient.pk, *patient.merged_files.values_list("pk", flat=True)]
    named = Q(patient_id__in=ids)
    for pk in ids:
        named |= Q(details__contains={"patients": [pk]})
    return list(
        AuditEvent.objects.filter(named, action__in=[AuditEvent.Action.VIEW,
                                                     AuditEvent.Action.EXPORT,
                                                     AuditEvent.Action.SEARCH])
        .values("actor__username", "actor__first_name", "actor__last_name")
        .annotate(reads=Count("id"), last_read=Max("at"),
                  hidden=Count("id", filter=Q(details__text_shown=False)))
        .order_by("-last_read")
    )


@dataclass(frozen=True)
class FileReads:
    """The answer to "who read my file" over a period, for the patient: per staff member,
    how many reads and changes; then, day by day, who opened what kind of record."""

    readers: list[dict]
    days: list[dict]


def audit_file_reads(*, patient, since: datetime.date, until: datetime.date) -> FileReads:
    """The reads and changes of ``patient``'s file (and of files merged into it) between two
    days, as the patient may be told them: who (name, role today), when, what kind of record
    (the neutral label of ``mass.audit.summaries.SUMMARY_READERS``, never a summary: a
    summary may hold a dose or a test) and how many times that day. A list page or search
    that named the file is "a list of patients". Three queries."""
    from django.db.models import Count, Min, Q
    from django.db.models.functions import TruncDate

    from mass.audit.summaries import LIST_OF_PATIENTS, SUMMARY_READERS, UNKNOWN
    ids = [patient.pk, *patient.merged_files.values_list("pk", flat=True)]
    named = Q(patient_id__in=ids)
    for pk in ids:
        named |= Q(details__contains={"patients": [pk]})
    rows = list(
        AuditEvent.objects.filter(named, at__date__gte=since, at__date__lte=until)
        .exclude(action__in=[AuditEvent.Action.LOGIN, AuditEvent.Action.LOGOUT,
                             AuditEvent.Action.LOGIN_FAILED])
        .annotate(day=TruncDate("at"))
        .values("day", "actor_id", "username", "actor__first_name", "actor__last_name",
                "action", "object_type")
        .annotate(times=Count("id"), first_at=Min("at"))
        .order_by("day", "first_at"))
    roles: dict[int, list[str]] = {}
    for user_id, role in (User.groups.through.objects
                          .filter(user_id__in={row["actor_id"] for row in rows})
                          .values_list("user_id", "group__name")):
        roles.setdefault(user_id, []).append(role)
    readers: dict[object, dict] = {}
    for row in rows:
        name = " ".join(filter(None, [row["actor__first_name"], row["actor__last_name"]]))
        row["who"] = name or row["username"] or "—"
        row["roles"] = sorted(roles.get(row["actor_id"], []))
        row["kind"] = (SUMMARY_READERS.get(row["object_type"], UNKNOWN)[1]
                       if row["object_type"] else LIST_OF_PATIENTS)
        reader = readers.setdefault(row["actor_id"] or row["username"], {
            "who": row["who"], "roles": row["roles"], "reads": 0, "changes": 0,
            "last": row["first_at"]})
        if row["action"] in (AuditEvent.Action.VIEW, AuditEvent.Action.SEARCH,
                             AuditEvent.Action.EXPORT):
            reader["reads"] += row["times"]
        else:
            reader["changes"] += row["times"]
        reader["last"] = max(reader["last"], row["first_at"])
    return FileReads(readers=sorted(readers.values(), key=lambda r: r["who"].lower()),
                     days=rows)


def staff_list():
    from django.contrib.auth.models import Permission
    from django.db.models import Prefetch
    merge = Permission.objects.filter(content_type__app_label="patients",
                                      codename="merge_patient")
    return (User.objects.prefetch_related(
        "groups", Prefetch("user_permissions", queryset=merge, to_attr="merge_rights"))
        .order_by("-is_active", "username"))


def role_grants_pending():
    """Clinical roles asked for and not yet decided, oldest first (the staff page)."""
    from mass.models import RoleGrant
    return (RoleGrant.objects.filter(decided_at__isnull=True)
            .select_related("user", "requested_by").order_by("requested_at", "id"))
