import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from reporting import tdi_codes as codes
from reporting.catalogue import INCOME_LABELS
from reporting.explain import Filters
from reporting.models import TdiRecord

YES, NO = codes.YesNo.YES, codes.YesNo.NO
SECONDARY = [f"secondary_drug_{n}" for n in range(1, 5)]


class TdiForm(forms.ModelForm):
    """The TDI questionnaire. A correction of a filled questionnaire needs a reason."""

    correction_reason = forms.CharField(
        label=_("Reason for the correction"), max_length=300, required=False,
        help_text=_("Required when you change a questionnaire already filled in."))

    class Meta:
        model = TdiRecord
        fields = ["setting", *TdiRecord.ITEMS]

    def __init__(self, *args, episode, current: TdiRecord | None = None, **kwargs):
        self.episode, self.current = episode, current
        super().__init__(*args, **kwargs)
        for name in SECONDARY:
            # "None" is the empty choice; "not known" means nothing for a secondary drug.
            self.fields[name].choices = [("", _("None"))] + [
                (value, label) for value, label in codes.Drug.choices
                if value != codes.NOT_KNOWN]
        if current is None:
            del self.fields["correction_reason"]
        else:
            self.fields["correction_reason"].required = True
        sections = [
            Fieldset(_("Episode"), "setting"),
            Fieldset(_("Treatment history and referral"), "ever_treated", "ost_ever",
                     "referral_source"),
            Fieldset(_("Social situation"), "living_with", "accommodation", "labour_status",
                     "education"),
            Fieldset(_("Drug use"), "primary_drug", "route", "frequency", "age_first_use",
                     *SECONDARY),
            Fieldset(_("Injecting"), "injected_ever", "injected_12m", "injected_30d",
                     "needle_shared_ever", "needle_shared_12m", "needle_shared_30d"),
        ]
        if current is not None:
            sections.append(Fieldset(_("Correction"), "correction_reason"))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*sections)

    def clean(self):
        data = super().clean()
        self._check_drugs(data)
        self._check_chain(data, "injected_ever", "injected_12m", "injected_30d",
                          _("Injecting"))
        self._check_chain(data, "needle_shared_ever", "needle_shared_12m",
                          "needle_shared_30d", _("Needle sharing"))
        if data.get("needle_shared_ever") == YES and data.get("injected_ever") == NO:
            self.add_error("needle_shared_ever",
                           _("Someone who never injected cannot have shared needles."))
        if data.get("route") == codes.Route.INJECT and data.get("injected_ever") == NO:
            self.add_error("injected_ever",
                           _("The primary drug is injected: 'ever injected' cannot be 'No'."))
        self._check_age(data)
        return data

    def _check_drugs(self, data):
        primary = data.get("primary_drug")
        seen = set()
        for name in SECONDARY:
            value = data.get(name)
            if value in (None, ""):
                continue
            if value == primary:
                self.add_error(name, _("A secondary drug cannot be the primary drug."))
            elif value in seen:
                self.add_error(name, _("This drug is already listed."))
            seen.add(value)

    def _check_chain(self, data, ever, year, month, label):
        """Yes in the last 30 days implies yes in the last 12 months implies yes ever."""
        for wider, narrower in ((ever, year), (year, month), (ever, month)):
            if data.get(narrower) == YES and data.get(wider) == NO:
                self.add_error(narrower, _("%(label)s: 'Yes' here contradicts 'No' for "
                                           "a longer period.") % {"label": label})
                return

    def _check_age(self, data):
        age = data.get("age_first_use")
        patient = self.episode.patient
        birth_year = patient.birth_year or (patient.birth_date.year if patient.birth_date
                                            else None)
        if age and birth_year and age > self.episode.opened_on.year - birth_year:
            self.add_error("age_first_use",
                           _("Older than the person was when the episode opened."))


class ExplainFilterForm(forms.Form):
    """The drill-down of an explanation list; invalid values are reported and ignored."""

    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12, required=False)
    week = forms.DateField(label=_("Week of"), required=False)
    day = forms.DateField(label=_("Day"), required=False)
    discipline = forms.ChoiceField(label=_("Discipline"), required=False)
    source = forms.ChoiceField(label=_("Income source"), required=False,
                               choices=[("", "---"), *INCOME_LABELS.items()])

    def __init__(self, *args, year: int, **kwargs):
        from consultations.models import Consultation
        self.year = year
        super().__init__(*args, **kwargs)
        self.fields["discipline"].choices = [("", "---"), *Consultation.Discipline.choices]

    def _in_year(self, name):
        value = self.cleaned_data.get(name)
        if value and value.year != self.year and not (
                name == "week" and (value + datetime.timedelta(days=6)).year == self.year):
            raise forms.ValidationError(_("Not in %(year)s.") % {"year": self.year})
        return value

    def clean_day(self):
        return self._in_year("day")

    def clean_week(self):
        week = self._in_year("week")
        # Any day of the week stands for its week: its Monday.
        return week - datetime.timedelta(days=week.weekday()) if week else None

    def filters(self) -> Filters:
        if not self.is_valid():
            data = {name: self.cleaned_data.get(name) for name in self.fields
                    if name not in self.errors}
        else:
            data = self.cleaned_data
        return Filters(month=data.get("month"), week=data.get("week"), day=data.get("day"),
                       discipline=data.get("discipline") or "", source=data.get("source") or "")


class DeclareForm(forms.Form):
    """Declaring a finished year: the coordinator confirms having read the checks; declaring
    a year again needs a reason."""

    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the figures are declared (again). Required for a new version; do not "
                    "name patients."))
    confirm = forms.BooleanField(
        label=_("I have read the figures and the checks above and declare them for the "
                "funder."),
        error_messages={"required": _("Tick the box to confirm the declaration.")})

    def __init__(self, *args, again: bool, **kwargs):
        self.again = again
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = again
        if again:
            self.fields["reason"].error_messages["required"] = _(
                "This year was declared before: give the reason for declaring it again.")
        self.helper = FormHelper()
        self.helper.form_tag = False
