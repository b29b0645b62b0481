import datetime
import unicodedata

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mass.models import Site
from patients.models import (
    WORKLIST_DAYS_MAX,
    WORKLIST_DAYS_MIN,
    Episode,
    HarmReductionContact,
    OutreachAttempt,
    Patient,
    PatientPhoto,
    Visit,
)
from patients.selectors import Team
from patients.validators import normalize_niss, validate_niss, validate_no_markup

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
OLDEST = datetime.date(1900, 1, 1)


def check_not_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message, code="future")
    return value


def check_plausible(value):
    if value and value < OLDEST:
        raise forms.ValidationError(_("This date is too far in the past."), code="too_old")
    return value


class PatientForm(forms.ModelForm):
    """Registration and correction of a file. Only the alias is required."""

    # Typed with dots and dashes as printed on the identity card; stored as 11 digits.
    niss = forms.CharField(label=_("NISS/INSZ"), max_length=20, required=False,
                           help_text=_("Belgian national number, 11 digits."))

    class Meta:
        model = Patient
        fields = ["alias", "distinguishing_note", "last_name", "first_name", "birth_date",
                  "birth_year", "sex", "language", "nationality", "niss", "phone", "address",
                  "notes"]
        widgets = {"birth_date": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}

    def clean_niss(self):
        value = self.cleaned_data["niss"].strip()
        validate_niss(value)
        return normalize_niss(value)

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        check_not_future(value, _("A birth date cannot be in the future."))
        return check_plausible(value)

    def clean_birth_year(self):
        value = self.cleaned_data["birth_year"]
        if value and value > timezone.localdate().year:
            raise forms.ValidationError(_("A birth year cannot be in the future."),
                                        code="future")
        return value

    def clean(self):
        data = super().clean()
        birth_date, birth_year = data.get("birth_date"), data.get("birth_year")
        if birth_date and birth_year and birth_date.year != birth_year:
            self.add_error("birth_year", _("The birth year differs from the birth date."))
        elif birth_date:
            data["birth_year"] = birth_date.year
            self.instance.birth_year = birth_date.year
        return data


class PatientCreateForm(PatientForm):
    file_number = forms.CharField(
        label=_("File number"), max_length=20, required=False,
        validators=[validate_no_markup],
        help_text=_("Leave empty: a number is given. Fill in only to keep a paper file's "
                    "number."))
    not_a_duplicate = forms.BooleanField(
        label=_("I checked the files above: none of them is this person."), required=False)

    # Registering someone who stands at the desk is also their arrival: logged in the same
    # step unless unticked (a file registered afterwards, from a paper form).
    log_arrival = forms.BooleanField(label=_("Log the arrival now"), required=False,
                                     initial=True)
    arrival_purpose = forms.ChoiceField(label=_("Came for"), required=False,
                                        choices=[("", "---------"), *Visit.Purpose.choices])

    field_order = ["alias", "last_name", "first_name", "birth_date", "birth_year"]

    def __init__(self, *args, may_log_arrival: bool = True, usual_purpose: str = "", **kwargs):
        """``may_log_arrival``: the user may log walk-ins (else no arrival is offered);
        ``usual_purpose``: what the arrival is for unless changed (the centre's usual)."""
        super().__init__(*args, **kwargs)
        if may_log_arrival:
            self.fields["arrival_purpose"].initial = usual_purpose
        else:
            del self.fields["log_arrival"], self.fields["arrival_purpose"]
        # Last, just above "Register anyway": the box answers the files listed above.
        self.fields["not_a_duplicate"] = self.fields.pop("not_a_duplicate")

    def without_duplicate_check(self) -> None:
        """The "I checked the files above" box goes only under files to check."""
        self.fields.pop("not_a_duplicate", None)

    def clean(self):
        data = super().clean()
        if data.get("log_arrival") and not data.get("arrival_purpose"):
            self.add_error("arrival_purpose", forms.ValidationError(
                _("Choose what the person came for, or untick “Log the arrival now”."),
                code="required"))
        return data

    def clean_file_number(self):
        value = self.cleaned_data["file_number"].strip().upper()
        if value and Patient.objects.filter(file_number__iexact=value).exists():
            raise forms.ValidationError(_("A file with this file number already exists."),
                                        code="duplicate")
        return value


class PatientUpdateForm(PatientForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in Patient.Status.choices if c[0] != Patient.Status.MERGED])

    class Meta(PatientForm.Meta):
        fields = [*PatientForm.Meta.fields, "status"]


class ArrivalForm(forms.Form):
    """One click at the desk: this person, for this, here, now."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.all(),
                                     widget=forms.HiddenInput)
    purpose = forms.ChoiceField(choices=Visit.Purpose.choices)
    site = forms.ModelChoiceField(queryset=Site.objects.filter(is_active=True), required=False)


def _folded(text: str) -> str:
    """Accents and case aside, as ``Patient.search_text`` compares names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c))
                    .casefold().split())


class PatientPickForm(forms.Form):
    """Who is meant, where staff name a person in a form (the group session's "add
    someone", a referral, a consultation without a file open): searched as the patient
    search does (selectors.patient_search: accents, a misspelt letter, a birth year,
    "Tintin 1978"), never a merged stub.

    A file number typed in full, or an alias that is the only one found and reads as typed
    (accents and case aside, a birth year besides), names the person. Anything else (several
    files, or one that only looks like what was typed) is refused with the files found in
    ``candidates``, for staff to choose one: a misspelt name never picks someone by itself."""

    CANDIDATES = 8

    patient = forms.CharField(
        label=_("Who? Alias, name, file number or birth year"), max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                      "data-search-box": True}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates: list[Patient] = []

    def clean_patient(self):
        from patients.selectors import YEAR, patient_search

        text = " ".join(self.cleaned_data["patient"].replace("\x00", "").split())
        found = patient_search(q=text, limit=self.CANDIDATES)
        by_number = [p for p in found if p.file_number.casefold() == text.casefold()]
        if by_number:
            patient = by_number[0]
            if patient.merged_into_id is not None:
                raise forms.ValidationError(
                    _("This file was merged into %(kept)s: record it on that file."),
                    params={"kept": patient.merged_into}, code="merged")
            return patient
        found = [p for p in found if p.merged_into_id is None][:self.CANDIDATES]
        if not found:
            raise forms.ValidationError(_("No file matches “%(text)s”."),
                                        params={"text": text}, code="unknown")
        words = _folded(" ".join(t for t in text.split() if not YEAR.match(t)))
        if len(found) == 1 and words and _folded(found[0].alias) == words:
            return found[0]
        self.candidates = found
        raise forms.ValidationError(
            _("Choose the person below: several files match, or none reads exactly as "
              "typed."), code="choose")


class VisitForm(forms.ModelForm):
    """A walk-in logged afterwards or with details (outreach, another day)."""

    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.filter(is_active=True))

    class Meta:
        model = Visit
        fields = ["date", "time", "purpose", "site", "note"]
        widgets = {"date": DATE_WIDGET, "time": TIME_WIDGET}

    def clean_date(self):
        value = self.cleaned_data["date"]
        check_not_future(value, _("A walk-in cannot be in the future."))
        return check_plausible(value)


class HarmReductionForm(forms.Form):
    """Material handed out and returned, by kind, without a file."""

    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.filter(is_active=True),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in HarmReductionContact.Material.choices:
            for prefix, verb in (("out", _("handed out")), ("ret", _("returned"))):
                self.fields[f"{prefix}_{value}"] = forms.IntegerField(
                    label=f"{label} ({verb})", required=False, min_value=0, max_value=10000,
                    widget=forms.NumberInput(attrs={"min": 0, "max": 10000,
                                                    "class": "form-control form-control-sm"}))

    def rows(self):
        """(label, [handed-out field, returned field]) per kind of material, each field as
        the board's table shows it (patients/rows.py material_input_rows): its html_name,
        auto_id, value, label and errors."""
        return [(label, [self._row_field(f"{prefix}_{value}") for prefix in ("out", "ret")])
                for value, label in HarmReductionContact.Material.choices]

    def _row_field(self, name: str) -> dict:
        field = self[name]
        return {"html_name": field.html_name, "auto_id": field.auto_id,
                "value": field.value(), "label": field.label, "errors": field.errors}

    def clean(self):
        data = super().clean()
        quantities = {}
        for value in HarmReductionContact.Material.values:
            handed_out, returned = data.get(f"out_{value}") or 0, data.get(f"ret_{value}") or 0
            if handed_out or returned:
                quantities[value] = (handed_out, returned)
        if not quantities and not self.errors:
            raise forms.ValidationError(
                _("Enter at least one quantity handed out or returned."), code="empty")
        data["quantities"] = quantities
        return data


class EpisodeOpenForm(forms.Form):
    opened_on = forms.DateField(label=_("Date of the treatment request"), widget=DATE_WIDGET)

    def clean_opened_on(self):
        value = self.cleaned_data["opened_on"]
        check_not_future(value, _("An episode cannot open in the future."))
        return check_plausible(value)


class EpisodeCloseForm(forms.Form):
    closed_on = forms.DateField(label=_("Closed on"), widget=DATE_WIDGET)
    closure_reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", "---------"), *[
            (value, label) for value, label in Episode.ClosureReason.choices
            if value != Episode.ClosureReason.SIX_MONTHS]],
        error_messages={"required": _("Choose why the episode closes.")})
    closure_note = forms.CharField(label=_("Note"), max_length=500, required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, episode: Episode, **kwargs):
        self.episode = episode
        super().__init__(*args, **kwargs)

    def clean_closed_on(self):
        value = self.cleaned_data["closed_on"]
        check_not_future(value, _("An episode cannot close in the future."))
        if value < self.episode.opened_on:
            raise forms.ValidationError(
                _("An episode cannot close before it opened (%(date)s)."),
                params={"date": self.episode.opened_on.strftime("%d/%m/%Y")}, code="order")
        return value


class MergeForm(forms.Form):
    """Which file is the same person as this one, and why."""

    other = forms.CharField(label=_("File number of the duplicate file"), max_length=20)
    reason = forms.CharField(label=_("Why are these the same person?"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kept: Patient, **kwargs):
        self.kept = kept
        super().__init__(*args, **kwargs)

    def clean_other(self):
        value = self.cleaned_data["other"].strip()
        other = Patient.objects.filter(file_number__iexact=value).first()
        if other is None:
            raise forms.ValidationError(_("No file has this file number."), code="unknown")
        if other.pk == self.kept.pk:
            raise forms.ValidationError(_("A file cannot be merged into itself."),
                                        code="same")
        if other.status == Patient.Status.MERGED:
            raise forms.ValidationError(_("This file is already merged into another file."),
                                        code="merged")
        return other


# --- who have we lost -------------------------------------------------------------------------

# The range is WORKLIST_DAYS_MIN to WORKLIST_DAYS_MAX (patients.models), as the services say.
DAYS_RANGE_MESSAGE = _("A number of days without contact is between 1 and 365.")


def days_field(label, *, required: bool = True, help_text: str = "") -> forms.IntegerField:
    """A number of days without contact: 1 to 365 (0 would list everyone in treatment)."""
    return forms.IntegerField(
        label=label, required=required, help_text=help_text,
        min_value=WORKLIST_DAYS_MIN, max_value=WORKLIST_DAYS_MAX,
        error_messages={"min_value": DAYS_RANGE_MESSAGE, "max_value": DAYS_RANGE_MESSAGE,
                        "invalid": DAYS_RANGE_MESSAGE})


class WorklistFilterForm(forms.Form):
    """The worklist's filters (GET). A bad value is said and left out; the others apply."""

    team = forms.ChoiceField(label=_("Team"), required=False,
                             choices=[("", _("All teams")), *Team.choices],
                             error_messages={"invalid_choice": _("Choose a team of the list.")})
    site = forms.ModelChoiceField(label=_("Last seen at"), required=False,
                                  queryset=Site.objects.filter(is_active=True),
                                  empty_label=_("All sites"),
                                  error_messages={
                                      "invalid_choice": _("Choose a site of the list.")})
    days = days_field(_("Not seen for (days)"), required=False,
                      help_text=_("Empty: the thresholds set by the coordinators."))

    def __init__(self, *args, teams: tuple[str, ...], **kwargs):
        """``teams``: the teams this user may filter by (``WorklistSight.teams``); any other
        is refused as a value not in the list, so the filter says nothing of who is in it."""
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("All teams")),
                                       *[(value, label) for value, label in Team.choices
                                         if value in teams]]


class WorklistThresholdsForm(forms.Form):
    substitution_days = days_field(
        _("Substitution dispensed at the MASS"),
        help_text=_("Days without contact before a person whose substitution treatment is "
                    "dispensed at the MASS shows on the list."))
    other_days = days_field(
        _("Everyone else in treatment"),
        help_text=_("Days without contact before the other people in treatment show on "
                    "the list."))


class OutreachAttemptForm(forms.Form):
    """One click from the worklist (or the file): how, the result, where (optional)."""

    means = forms.ChoiceField(label=_("How"), choices=OutreachAttempt.Means.choices,
                              initial=OutreachAttempt.Means.PHONE)
    result = forms.ChoiceField(label=_("Result"), choices=OutreachAttempt.Result.choices,
                               initial=OutreachAttempt.Result.NOT_REACHED)
    where = forms.ModelChoiceField(label=_("Where"), required=False,
                                   queryset=Site.objects.filter(is_active=True),
                                   error_messages={"invalid_choice":
                                                   _("Choose a site of the list.")})


class PhotoForm(forms.Form):
    """An identification photo: from the device camera (static/js/photo.js puts the picture
    in the file field, as if chosen) or a file. Whether it is really a photo is checked by
    services.patient_photo_store, whatever the browser says of it."""

    photo = forms.FileField(
        label=_("Photo"), allow_empty_file=False,
        help_text=_("Take it with the camera above, or choose a file (JPEG, PNG or WebP, at "
                    "most 10 MB)."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    source = forms.ChoiceField(choices=PatientPhoto.Source.choices,
                               initial=PatientPhoto.Source.UPLOAD, widget=forms.HiddenInput)
    consent = forms.BooleanField(
        label=_("The person agrees to this photo being kept on their file to identify them "
                "(they may withdraw at any time: the photo is then erased)."),
        required=False)


class HarmReductionDayForm(forms.Form):
    """The day whose harm-reduction entries are listed (to cancel one recorded by mistake)."""

    day = forms.DateField(label=_("Day"), widget=DATE_WIDGET)

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be later than today."))
        return day
