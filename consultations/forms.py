from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.models import (
    MAX_DURATION_MINUTES,
    Consultation,
    GroupSession,
    Partner,
    Referral,
    ScreeningTest,
)
from consultations.selectors import writable_disciplines
from mass.accounts.roles import CLINICAL_ROLES
from mass.models import Site, User
from patients.forms import PatientPickForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _not_in_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date cannot be later than today."))
    return value


class ConsultationForm(forms.ModelForm):
    sign = forms.BooleanField(
        label=_("Sign now"), required=False,
        help_text=_("A signed note is locked; later corrections are amendments. Unsigned notes "
                    "are signed automatically at the end of the next day."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "min_value": _("A duration is at least 1 minute."),
            "max_value": _("A consultation lasts at most %(limit_value)s minutes."),
            "invalid": _("Give the duration as a number of minutes."),
        },
    )

    class Meta:
        model = Consultation
        fields = ["discipline", "form", "site", "date", "time", "duration_minutes", "note",
                  "is_personal_note"]
        widgets = {
            "date": DATE_INPUT,
            "time": TIME_INPUT,
            "note": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args, user, creating=True, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = writable_disciplines(user)
        self.fields["discipline"].choices = [
            (value, label) for value, label in Consultation.Discipline.choices if value in allowed
        ]
        if allowed and not self.initial.get("discipline"):
            self.initial["discipline"] = allowed[0]
        self.fields["site"].queryset = Site.objects.filter(is_active=True)
        self.fields["site"].empty_label = _("(not said)")
        if creating:
            self.initial.setdefault("date", timezone.localdate())
            self.initial.setdefault("site", Site.objects.filter(kind=Site.Kind.CENTRE)
                                    .values_list("pk", flat=True).first())
        else:
            del self.fields["sign"]

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))


class AmendmentForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the amendment"), max_length=300,
                             error_messages={"required": _("Give the reason for the amendment.")})
    text = forms.CharField(label=_("Amendment"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           error_messages={"required": _("Write the amendment.")})

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for the amendment."))
        return reason

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write the amendment."))
        return text


def clinical_staff():
    return (User.objects.filter(is_active=True, groups__name__in=[r.value for r in CLINICAL_ROLES])
            .distinct().order_by("last_name", "first_name", "username"))


class GroupSessionForm(forms.ModelForm):
    class Meta:
        model = GroupSession
        fields = ["date", "time", "kind", "theme", "site", "facilitators"]
        widgets = {"date": DATE_INPUT, "time": TIME_INPUT,
                   "facilitators": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())
        self.fields["site"].queryset = Site.objects.filter(is_active=True)
        self.fields["facilitators"].queryset = clinical_staff()

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))


class AttendanceForm(PatientPickForm):
    """Who attended: named as in the patient search, chosen among the files found when the
    name is not enough (patients.forms.PatientPickForm)."""


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["name", "kind", "address", "phone", "email", "website", "contact_person",
                  "notes", "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class PartnerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"data-search-box": True,
                                                      "type": "search"}))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All kinds")), *Partner.Kind.choices])


class ReferralForm(forms.ModelForm):
    class Meta:
        model = Referral
        fields = ["partner", "date", "reason"]
        widgets = {"date": DATE_INPUT, "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())
        self.fields["partner"].queryset = Partner.objects.filter(is_active=True)

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))


class ReferralOutcomeForm(forms.Form):
    """The outcome of a pending referral, given once: "pending" is not an outcome."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        # No default: a quick "Save" must not record "seen" that nobody chose.
        choices=[("", "---------"), *(c for c in Referral.Outcome.choices
                                      if c[0] != Referral.Outcome.PENDING)])
    outcome_date = forms.DateField(label=_("Known on"), widget=DATE_INPUT)

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.initial.setdefault("outcome_date", timezone.localdate())

    def clean_outcome_date(self):
        value = _not_in_future(self.cleaned_data.get("outcome_date"))
        if value and value < self.referral.date:
            raise forms.ValidationError(_("The outcome cannot be known before the referral."))
        return value


RESULT_CHOICES_EMPTY_FIRST = [("", "---------"), *ScreeningTest.Result.choices]
#: A result known (no "Pending"): what a result recorded or amended may be.
RESULTS = [c for c in ScreeningTest.Result.choices if c[0] != ScreeningTest.Result.PENDING]


class ScreeningTestForm(forms.ModelForm):
    class Meta:
        model = ScreeningTest
        fields = ["test", "date", "result", "result_date", "follow_up"]
        widgets = {"date": DATE_INPUT, "result_date": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())
        # No result chosen for the person who records it: "Pending" is a choice like the
        # others (a default would put a result on a file nobody chose).
        self.fields["result"].choices = RESULT_CHOICES_EMPTY_FIRST
        self.fields["result"].initial = None
        self.fields["result"].required = True
        self.fields["result"].error_messages["required"] = _("Choose the result.")

    def clean_date(self):
        return _not_in_future(self.cleaned_data.get("date"))

    def clean_result_date(self):
        return _not_in_future(self.cleaned_data.get("result_date"))

    def clean(self):
        data = super().clean()
        date, result_date = data.get("date"), data.get("result_date")
        if date and result_date and result_date < date:
            self.add_error("result_date", _("The result cannot be known before the test."))
        return data


class ScreeningResultForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=[("", "---------"), *RESULTS],
        error_messages={"required": _("Choose the result.")})
    result_date = forms.DateField(label=_("Result known on"), widget=DATE_INPUT)
    follow_up = forms.CharField(label=_("Follow-up"), max_length=500, required=False)

    def __init__(self, *args, screening, **kwargs):
        super().__init__(*args, **kwargs)
        self.screening = screening
        self.initial.setdefault("result_date", timezone.localdate())
        self.initial.setdefault("follow_up", screening.follow_up)

    def clean_result_date(self):
        value = _not_in_future(self.cleaned_data.get("result_date"))
        if value and value < self.screening.date:
            raise forms.ValidationError(_("The result cannot be known before the test."))
        return value


class ScreeningAmendForm(ScreeningResultForm):
    """A recorded result corrected: the new result, since when it is known, and why."""

    reason = forms.CharField(label=_("Reason for the correction"), max_length=500,
                             error_messages={"required": _("Give the reason for the amendment.")})
    follow_up = None

    def __init__(self, *args, screening, **kwargs):
        super().__init__(*args, screening=screening, **kwargs)
        self.initial.pop("follow_up", None)
