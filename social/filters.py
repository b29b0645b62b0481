import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.models import Partner
from mass.accounts.roles import Role
from mass.models import User
from social.models import SocialAction

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SocialActionFilter(django_filters.FilterSet):
    ACTIVE = "active"
    ALL = "all"

    type = django_filters.ChoiceFilter(choices=SocialAction.Type.choices, label=_("Type"))
    status = django_filters.ChoiceFilter(
        choices=[(ACTIVE, _("Open or in progress")), *SocialAction.Status.choices,
                 (ALL, _("All"))],
        method="filter_status", label=_("Status"), empty_label=None,
    )
    partner = django_filters.ModelChoiceFilter(
        queryset=Partner.objects.order_by("name"), label=_("Partner"))
    social_worker = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(groups__name=Role.SOCIAL_WORKER).order_by(
            "last_name", "first_name", "username"),
        label=_("Social worker"))
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte",
                                          label=_("Due from"), widget=DATE_INPUT)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte",
                                           label=_("Due until"), widget=DATE_INPUT)

    class Meta:
        model = SocialAction
        fields = ["type", "status", "partner", "social_worker", "due_after", "due_before"]

    def __init__(self, *args, team: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not team:
            # One's own caseload: the social worker is the signed-in user.
            del self.filters["social_worker"]
        for field in self.form.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = ("form-select form-select-sm" if is_select
                                           else "form-control form-control-sm")

    def filter_status(self, queryset, name, value):
        if value == self.ACTIVE:
            return queryset.filter(status__in=SocialAction.OPEN_STATUSES)
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value)
