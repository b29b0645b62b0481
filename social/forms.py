import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.models import Partner
from mass.accounts.roles import Role
from mass.models import User
from social.models import (
    SITUATION_MODELS,
    CpasRecord,
    HousingRecord,
    IdentityRecord,
    IncomeRecord,
    InsuranceRecord,
    SocialAction,
)

EARLIEST = datetime.date(1900, 1, 1)
UNCHANGED = [("", _("— unchanged —"))]
UNKNOWN_COMMUNE = _("Unknown commune: choose one of the 19 Brussels communes, or “Other”.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def check_situation_date(value: datetime.date) -> datetime.date:
    if value > timezone.localdate():
        raise ValidationError(_("A situation cannot be dated in the future."), code="future")
    if value < EARLIEST:
        raise ValidationError(_("This date is too far in the past."), code="too_old")
    return value


class AsOfForm(forms.Form):
    """The situation page on a past date (GET ``?as_of=``)."""

    as_of = forms.DateField(label=_("Situation on"), required=False, widget=DateInput)

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of and as_of < EARLIEST:
            raise ValidationError(_("This date is too far in the past."))
        return as_of


class SituationChangeForm(forms.Form):
    """Record what changed in the situation from a date on: fill only what changed."""

    date = forms.DateField(label=_("Since"), widget=DateInput,
                           help_text=_("The date from which the new situation holds."))
    source = forms.ChoiceField(label=_("Income source"), required=False,
                               choices=UNCHANGED + IncomeRecord.Source.choices)
    insurance = forms.ChoiceField(label=_("Health insurance"), required=False,
                                  choices=UNCHANGED + InsuranceRecord.Status.choices)
    fund = forms.ChoiceField(label=_("Insurance fund"), required=False,
                             choices=[("", "—")] + InsuranceRecord.Fund.choices)
    commune = forms.ChoiceField(label=_("Reference CPAS/OCMW"), required=False,
                                choices=UNCHANGED + CpasRecord.Commune.choices,
                                error_messages={"invalid_choice": UNKNOWN_COMMUNE})
    other_cpas = forms.CharField(label=_("Other CPAS"), required=False, max_length=100)
    housing = forms.ChoiceField(label=_("Housing"), required=False,
                                choices=UNCHANGED + HousingRecord.Situation.choices)
    documents = forms.ChoiceField(label=_("Identity documents"), required=False,
                                  choices=UNCHANGED + IdentityRecord.Documents.choices)
    address = forms.CharField(label=_("Reference address"), required=False, max_length=250)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_date(self):
        return check_situation_date(self.cleaned_data["date"])

    def clean(self):
        data = super().clean()
        if data.get("fund") and not data.get("insurance"):
            self.add_error("insurance", _("Give the health insurance status with the fund."))
        if data.get("other_cpas") and data.get("commune") != CpasRecord.Commune.OTHER:
            self.add_error("other_cpas", _("Name another CPAS only with “Other”."))
        if not self.errors and not self.changes():
            raise ValidationError(_("Nothing to record: fill at least one element of the "
                                    "situation."), code="empty")
        return data

    def changes(self) -> dict[str, dict]:
        """The new rows to write, by dimension (social.models.SITUATION_MODELS)."""
        data = self.cleaned_data
        changes = {}
        if data.get("source"):
            changes["income"] = {"source": data["source"]}
        if data.get("insurance"):
            changes["insurance"] = {"status": data["insurance"], "fund": data.get("fund", "")}
        if data.get("commune"):
            changes["cpas"] = {"commune": data["commune"],
                               "other_name": data.get("other_cpas", "")}
        if data.get("housing"):
            changes["housing"] = {"situation": data["housing"]}
        if data.get("documents"):
            changes["identity"] = {"documents": data["documents"]}
        if data.get("address", "").strip():
            changes["address"] = {"address": data["address"].strip()}
        return changes


#: The fields holding the value of each dimension.
VALUE_FIELDS = {
    "income": ["source"],
    "insurance": ["status", "fund"],
    "cpas": ["commune", "other_name"],
    "housing": ["situation"],
    "identity": ["documents"],
    "address": ["address"],
}


class SituationCorrectionForm(forms.ModelForm):
    """A correction of one row: the right date and value, and why."""

    reason = forms.CharField(label=_("Reason for the correction"), max_length=300,
                             widget=forms.TextInput,
                             error_messages={"required": _("Say why this is corrected.")})

    class Meta:
        fields = ["date"]
        widgets = {"date": DateInput}

    def __init__(self, *args, original, **kwargs):
        self.original = original
        super().__init__(*args, **kwargs)

    def clean_date(self):
        return check_situation_date(self.cleaned_data["date"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if (self.original.dimension == "cpas" and data.get("other_name")
                and data.get("commune") != CpasRecord.Commune.OTHER):
            self.add_error("other_name", _("Name another CPAS only with “Other”."))
            return data
        fields = ["date", *VALUE_FIELDS[self.original.dimension]]
        if all(data.get(f) == getattr(self.original, f) for f in fields):
            raise ValidationError(_("The correction changes nothing: change the date or the "
                                    "value."), code="unchanged")
        return data

    def values(self) -> dict:
        return {f: self.cleaned_data[f] for f in VALUE_FIELDS[self.original.dimension]}


def correction_form_class(dimension: str) -> type[SituationCorrectionForm]:
    model = SITUATION_MODELS[dimension]
    meta_attrs = {"model": model, "fields": ["date", *VALUE_FIELDS[dimension]],
                  "widgets": {"date": DateInput}}
    if model is CpasRecord:
        meta_attrs["error_messages"] = {"commune": {"invalid_choice": UNKNOWN_COMMUNE}}
    meta = type("Meta", (SituationCorrectionForm.Meta,), meta_attrs)
    return type(f"{model.__name__}CorrectionForm", (SituationCorrectionForm,), {"Meta": meta})


def social_workers():
    return User.objects.filter(groups__name=Role.SOCIAL_WORKER, is_active=True).order_by(
        "last_name", "first_name", "username")


def check_due_date(opened_on, due_on) -> None:
    if opened_on and due_on and due_on < opened_on:
        raise ValidationError({"due_on": _("The due date cannot be before the opening date.")})


class SocialActionForm(forms.ModelForm):
    class Meta:
        model = SocialAction
        fields = ["type", "social_worker", "partner", "opened_on", "due_on", "notes"]
        widgets = {"opened_on": DateInput, "due_on": DateInput,
                   "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"notes": _("Social note: read by social workers, doctors and you only.")}

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"opened_on": timezone.localdate(), "social_worker": user})
        super().__init__(*args, **kwargs)
        self.fields["social_worker"].queryset = social_workers()
        self.fields["partner"].queryset = Partner.objects.filter(is_active=True).order_by("name")

    def clean_opened_on(self):
        opened_on = self.cleaned_data["opened_on"]
        if opened_on > timezone.localdate():
            raise ValidationError(_("An action cannot be opened in the future."))
        if opened_on < EARLIEST:
            raise ValidationError(_("This date is too far in the past."))
        return opened_on

    def clean(self):
        data = super().clean()
        check_due_date(data.get("opened_on"), data.get("due_on"))
        return data


class SocialActionEditForm(forms.ModelForm):
    """What may change on an open action: who follows it, with which partner, by when."""

    class Meta:
        model = SocialAction
        fields = ["social_worker", "partner", "due_on"]
        widgets = {"due_on": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["social_worker"].queryset = social_workers()
        self.fields["partner"].queryset = Partner.objects.filter(is_active=True).order_by("name")

    def clean(self):
        data = super().clean()
        check_due_date(self.instance.opened_on, data.get("due_on"))
        return data


class SocialActionProgressForm(forms.Form):
    """A step in the life of an action: a new status and/or a follow-up note."""

    status = forms.ChoiceField(label=_("Status"), choices=SocialAction.Status.choices)
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Required to close the action (done or abandoned)."))
    note = forms.CharField(label=_("Follow-up note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Social note: read by social workers, doctors and "
                                       "you only."))

    def __init__(self, *args, action, **kwargs):
        self.action = action
        kwargs.setdefault("initial", {"status": action.status})
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not self.action.is_open:
            raise ValidationError(_("This action is closed; open a new action instead."),
                                  code="closed")
        closing = data["status"] in SocialAction.CLOSED_STATUSES
        if closing and not data.get("outcome", "").strip():
            self.add_error("outcome", _("Give the outcome to close the action."))
        elif data["status"] == self.action.status and not data.get("note", "").strip():
            raise ValidationError(_("Change the status or write a note."), code="empty")
        return data
