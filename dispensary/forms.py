import datetime
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from dispensary.models import (
    ClosedDayPlan,
    Dispensation,
    HoldReview,
    InductionRule,
    Pharmacy,
    Prescription,
    Product,
    RegisterEntry,
)
from dispensary.services import product_locked_message

DOSE = {"max_digits": 8, "decimal_places": 2}
STOCK = {"max_digits": 12, "decimal_places": 2}
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DispenseForm(forms.Form):
    """The nurse's record of one dose part: the intoxication check, then give or withhold."""

    GIVE, WITHHOLD = "give", "withhold"
    NO_SIGNS, SIGNS = "none", "signs"
    NO_SIGNS_NOW, SIGNS_AGAIN = "none_now", "signs_again"

    part = forms.ChoiceField(choices=Dispensation.Part.choices, widget=forms.HiddenInput)
    # Required, in clean(): answered here, or by ``reassessment`` after a dose withheld.
    intoxication = forms.ChoiceField(
        label=_("Intoxication check"), widget=forms.RadioSelect, required=False,
        choices=[(NO_SIGNS, _("No signs of intoxication")),
                 (SIGNS, _("Signs of intoxication (drowsy, slurred speech, pinpoint pupils, "
                           "smell of alcohol...)"))],
    )
    # The intoxication question asked again after a dose withheld today for signs of
    # intoxication (the form shows it instead of ``intoxication``); the service refuses a
    # dose without it.
    reassessment = forms.ChoiceField(
        label=_("New assessment"), widget=forms.RadioSelect, required=False,
        choices=[(NO_SIGNS_NOW, _("No signs of intoxication now: the dose may be given")),
                 (SIGNS_AGAIN, _("Signs of intoxication persist: withhold again"))])
    observations = forms.CharField(label=_("Observations"), max_length=500, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity given"), required=False, **DOSE,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Empty: the dose still to give today (the prescribed dose, or the "
                    "top-up after a same-day change). Less may be given, never more."),
    )
    withheld_reason = forms.ChoiceField(
        label=_("Reason withheld"), required=False,
        choices=[("", "---------"), *Dispensation.WithheldReason.choices])
    hand_take_home = forms.BooleanField(
        label=_("Hand the take-home doses of the following days"), required=False,
        initial=True)
    action = forms.ChoiceField(choices=[(GIVE, _("Give")), (WITHHOLD, _("Withhold"))],
                               widget=forms.HiddenInput, initial=GIVE)

    def __init__(self, *args, prescription: Prescription | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if prescription is not None:
            self.fields["part"].choices = [(p, Dispensation.Part(p).label)
                                           for p in prescription.parts()]

    def clean(self):
        data = super().clean()
        reassessment = data.get("reassessment")
        answered = "reassessment" if reassessment else "intoxication"
        if not data.get("intoxication") and not reassessment:
            self.add_error("intoxication", _("Record the intoxication check before every "
                                             "dose."))
        # Two answers (a stale or forged form): the one that saw signs counts.
        signs = data.get("intoxication") == self.SIGNS or reassessment == self.SIGNS_AGAIN
        data["intoxication"] = self.SIGNS if signs else self.NO_SIGNS
        data["reassessed"] = bool(reassessment)
        _check_withholding(self, data, signs=signs, answered=answered, messages={
            "given": _("Signs of intoxication: the dose must be withheld, not given."),
            "why": _("Say why the dose is withheld.")})
        return data


def _check_withholding(form, data: dict, *, signs: bool, answered: str, messages: dict):
    """The rules of a dose withheld, shared by the desk's form and the paper record's: signs
    of intoxication withhold the dose (their reason by default) and are described; another
    reason is said. ``messages``: the sentences in the form's tense ("given", "why")."""
    action = data.get("action")
    if signs and action == DispenseForm.GIVE:
        form.add_error(answered, messages["given"])
    if action != DispenseForm.WITHHOLD:
        return
    if signs and not data.get("withheld_reason"):
        data["withheld_reason"] = Dispensation.WithheldReason.INTOXICATION
    if not data.get("withheld_reason"):
        form.add_error("withheld_reason", messages["why"])
    observations = data.get("observations", "").strip()
    if signs and not observations:
        form.add_error("observations", _("Describe the signs observed."))
    if data.get("withheld_reason") == Dispensation.WithheldReason.OTHER and not observations:
        form.add_error("observations", _("Explain the reason in the observations."))


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, min_length=5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. recorded for the wrong patient, the dose was not taken."))


class InductionConfirmationMixin:
    """The confirmation, with a reason, of a prescription above its product's induction
    rules (services.AboveInductionRules). Shown with the warning only: the view calls
    ``show_induction_confirmation`` when the service warns, and the fields stay on the form
    posted back (a browser always posts the reason's box). Saved with both, never one."""

    def show_induction_confirmation_if_posted(self):
        if self.is_bound and self.add_prefix("induction_override_reason") in self.data:
            self.show_induction_confirmation()

    def show_induction_confirmation(self):
        self.fields["induction_confirmed"] = forms.BooleanField(
            label=_("I have read the induction rule and prescribe above it"), required=False)
        self.fields["induction_override_reason"] = forms.CharField(
            label=_("Reason for going above the induction rules"), max_length=500,
            required=False, widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("E.g. tolerance confirmed (dose taken elsewhere, verified with the "
                        "prescriber), transfer from another programme. Recorded on the "
                        "prescription."))

    @staticmethod
    def clean_induction_confirmation(data: dict) -> None:
        data["induction_confirmed"] = bool(data.get("induction_confirmed"))
        data["induction_override_reason"] = (data.get("induction_override_reason")
                                             or "").strip()


class PrescriptionForm(InductionConfirmationMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    daily_dose = forms.DecimalField(label=_("Daily dose"), **DOSE,
                                    validators=[MinValueValidator(Decimal("0.01"))])
    evening_dose = forms.DecimalField(
        label=_("Evening part (split dose)"), required=False, **DOSE,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Empty or 0: the whole dose at once. Else the part given in the evening; "
                    "the morning part is the rest."))
    start_date = forms.DateField(label=_("From"), widget=DATE_INPUT)
    end_date = forms.DateField(label=_("Until (last day)"), required=False, widget=DATE_INPUT,
                               help_text=_("Empty: until a new prescription ends it."))
    take_home_weekdays = forms.TypedMultipleChoiceField(
        label=_("Take-home days"), required=False, coerce=int,
        choices=[(day, WEEKDAYS[day]) for day in range(7)],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The dose of these days is handed the day before, to take home."))
    pharmacy = forms.ModelChoiceField(
        label=_("Dispensed at"), required=False, queryset=Pharmacy.objects.none(),
        empty_label=_("the MASS"))
    instructions = forms.CharField(label=_("Instructions"), max_length=500, required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    # The patient's prescriptions as the doctor saw them (selectors.prescribing_version):
    # saving on a version that changed meanwhile is refused.
    # Checked in clean(): a hidden field's own error would not be shown.
    based_on = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        self.fields["pharmacy"].queryset = Pharmacy.objects.filter(is_active=True)
        self.fields["start_date"].initial = self.today
        self.show_induction_confirmation_if_posted()

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if start < self.today:
            raise forms.ValidationError(_("A prescription cannot start in the past."))
        return start

    def clean_take_home_weekdays(self):
        days = self.cleaned_data["take_home_weekdays"]
        if len(set(days)) >= 7:
            raise forms.ValidationError(_("At least one day a week must be dispensed under "
                                          "supervision."))
        return days

    def clean(self):
        data = super().clean()
        product, daily = data.get("product"), data.get("daily_dose")
        evening = data.get("evening_dose") or Decimal(0)
        data["evening_dose"] = evening
        if product and daily and daily > product.max_daily_dose:
            self.add_error("daily_dose", _("Above the highest daily dose for this product "
                                           "(%(max)s %(unit)s).")
                           % {"max": f"{product.max_daily_dose.normalize():f}",
                              "unit": product.unit})
        if daily and evening >= daily:
            self.add_error("evening_dose", _("The evening part must be less than the daily "
                                             "dose."))
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The prescription cannot end before it starts."))
        if not data.get("based_on"):
            raise forms.ValidationError(_("The form is incomplete: reload the page and "
                                          "prescribe again."))
        self.clean_induction_confirmation(data)
        return data


class PrescriptionEndForm(forms.Form):
    end_date = forms.DateField(
        label=_("Last day"), widget=DATE_INPUT,
        help_text=_("Yesterday: nothing more is given from today."))
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, prescription: Prescription, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.prescription = prescription
        self.fields["end_date"].initial = self.today

    def clean_end_date(self):
        end = self.cleaned_data["end_date"]
        if end < self.today - datetime.timedelta(days=1):
            raise forms.ValidationError(_("The last day cannot be before yesterday."))
        if self.prescription.end_date and end > self.prescription.end_date:
            raise forms.ValidationError(_("To extend a prescription, write a new one."))
        return end


class HoldReviewForm(InductionConfirmationMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=HoldReview.Decision.choices,
                                 widget=forms.RadioSelect)
    new_daily_dose = forms.DecimalField(label=_("New daily dose"), required=False, **DOSE,
                                        validators=[MinValueValidator(Decimal("0.01"))])
    new_evening_dose = forms.DecimalField(
        label=_("New evening part"), required=False, **DOSE,
        validators=[MinValueValidator(Decimal(0))], help_text=_("Empty: not split."))
    full_dose_confirmed = forms.BooleanField(
        label=_("I confirm that the full prescribed dose is safe despite the missed days"),
        required=False)
    note = forms.CharField(label=_("Clinical reasoning"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, prescription: Prescription, missed_days: int,
                 strong_warning: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.prescription = prescription
        self.strong_warning = strong_warning
        self.missed_days = missed_days
        # A lower dose is a new prescription after the hold: a restart, checked against the
        # induction rules.
        self.show_induction_confirmation_if_posted()

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        new_dose = data.get("new_daily_dose")
        data["new_evening_dose"] = data.get("new_evening_dose") or Decimal(0)
        if decision == HoldReview.Decision.LOWER:
            if new_dose is None:
                self.add_error("new_daily_dose", _("Give the new, lower daily dose."))
            elif new_dose >= self.prescription.daily_dose:
                self.add_error("new_daily_dose",
                               _("The new daily dose must be below the prescribed %(dose)s.")
                               % {"dose": f"{self.prescription.daily_dose.normalize():f}"})
            elif data["new_evening_dose"] >= new_dose:
                self.add_error("new_evening_dose", _("The evening part must be less than the "
                                                     "daily dose."))
        if (decision == HoldReview.Decision.RESUME and self.strong_warning
                and not data.get("full_dose_confirmed")):
            self.add_error("full_dose_confirmed",
                           _("%(days)s days without a dose: confirm explicitly, or lower the "
                             "dose.") % {"days": self.missed_days})
        self.clean_induction_confirmation(data)
        return data


class ReceiptForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=_("Quantity received"), **STOCK,
                                  validators=[MinValueValidator(Decimal("0.01"))])
    supplier = forms.CharField(label=_("Supplier"), max_length=120)
    batch = forms.CharField(label=_("Batch"), max_length=60)
    received_on = forms.DateField(label=_("Received on"), widget=DATE_INPUT)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_controlled=True,
                                                                 is_active=True)
        self.fields["received_on"].initial = timezone.localdate()

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A receipt cannot be in the future."))
        return day


class CountForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    counted = forms.DecimalField(label=_("Quantity counted"), **STOCK,
                                 validators=[MinValueValidator(Decimal(0))])
    reason_code = forms.ChoiceField(
        label=_("Reason for a discrepancy"), required=False,
        choices=[("", "---------"), *RegisterEntry.Reason.choices])
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_controlled=True,
                                                                 is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("reason_code") == RegisterEntry.Reason.OTHER and not data.get("note"):
            self.add_error("note", _("Explain the discrepancy."))
        return data


class CorrectionForm(forms.Form):
    quantity = forms.DecimalField(
        label=_("Correction (+ or -)"), **STOCK,
        validators=[MinValueValidator(Decimal("-9999999999")),
                    MaxValueValidator(Decimal("9999999999"))],
        help_text=_("E.g. -900 when 1000 was recorded instead of 100."))
    note = forms.CharField(label=_("Reason"), max_length=500)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("A correction cannot be zero."))
        return quantity


class ProductForm(forms.ModelForm):
    """A product. The substance of a saved product is shown but not editable (it groups the
    product's doses with the substance's); once the product is prescribed or in the register
    (``in_use``) its unit and flags cannot change either: a change is refused, saying why."""

    class Meta:
        model = Product
        fields = ["name", "substance", "form", "unit", "is_substitution", "is_controlled",
                  "max_daily_dose", "is_active"]

    def __init__(self, *args, in_use: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_use = in_use
        # As saved: the instance takes the posted values once the form is validated.
        self.saved = {name: getattr(self.instance, name) for name in Product.LOCKED_WHEN_USED}
        if self.instance.pk:
            self.fields["substance"].disabled = True
        if in_use:
            for name in Product.LOCKED_WHEN_USED:
                self.fields[name].help_text = _(
                    "Locked: this product is prescribed or in the drug register.")
                self.fields[name].widget.attrs["data-locked"] = ""

    def clean(self):
        data = super().clean()
        # A disabled field is not posted by a browser: a posted substance that differs is a
        # stale or forged form, refused rather than silently ignored.
        posted = self.data.get(self.add_prefix("substance"))
        if (self.instance.pk and posted is not None
                and posted.strip() != self.saved["substance"]):
            self.add_error("substance", _("The substance of a saved product cannot change: "
                                          "create a new product."))
        if self.in_use:
            changed = [name for name in Product.LOCKED_WHEN_USED
                       if name != "substance" and name in data
                       and data[name] != self.saved[name]]
            if changed:
                self.add_error(None, product_locked_message(self.instance, changed))
                for name in changed:
                    self.add_error(name, _("Locked: this product is prescribed or in the "
                                           "drug register."))
        return data

    def clean_max_daily_dose(self):
        dose = self.cleaned_data["max_daily_dose"]
        if dose <= 0:
            raise forms.ValidationError(_("Must be above zero."))
        return dose


class PharmacyForm(forms.ModelForm):
    class Meta:
        model = Pharmacy
        fields = ["name", "address", "phone", "is_active"]


class PaperRecordForm(forms.Form):
    """A dose given (or withheld) on paper while the network was down, recorded afterwards
    from the downtime sheet: the paper's day and time, who gave it and the same intoxication
    check as at the desk."""

    GIVE, WITHHOLD = DispenseForm.GIVE, DispenseForm.WITHHOLD
    NO_SIGNS, SIGNS = DispenseForm.NO_SIGNS, DispenseForm.SIGNS

    prescription = forms.ModelChoiceField(label=_("Prescription"),
                                          queryset=Prescription.objects.none())
    day = forms.DateField(label=_("Day on the paper"), widget=DATE_INPUT)
    time = forms.TimeField(label=_("Time on the paper"),
                           widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    part = forms.ChoiceField(label=_("Part"), choices=Dispensation.Part.choices)
    action = forms.ChoiceField(label=_("On the paper"), widget=forms.RadioSelect,
                               choices=[(GIVE, _("Given")), (WITHHOLD, _("Withheld"))])
    intoxication = forms.ChoiceField(
        label=_("Intoxication check"), widget=forms.RadioSelect,
        choices=DispenseForm.base_fields["intoxication"].choices,
        error_messages={"required": _("Record the intoxication check written on the "
                                      "paper.")})
    quantity = forms.DecimalField(
        label=_("Quantity given"), required=False, **DOSE,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Empty: the dose still to give that day."))
    withheld_reason = forms.ChoiceField(
        label=_("Reason withheld"), required=False,
        choices=[("", "---------"), *Dispensation.WithheldReason.choices])
    observations = forms.CharField(label=_("Observations"), max_length=500, required=False)
    given_by = forms.ModelChoiceField(
        label=_("Given by"), queryset=None, required=False, empty_label=_("me"),
        help_text=_("The nurse who initialled the paper, when it was not you."))
    hand_take_home = forms.BooleanField(
        label=_("The take-home doses of the following days were handed too (as on the "
                "sheet)"), required=False)

    def __init__(self, *args, prescriptions, nurses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescription"].queryset = prescriptions
        self.fields["prescription"].label_from_instance = self._prescription_label
        self.fields["given_by"].queryset = nurses

    @staticmethod
    def _prescription_label(rx: Prescription) -> str:
        end = rx.end_date.strftime("%d/%m/%Y") if rx.end_date else "…"
        return (f"{rx.product} {rx.daily_dose.normalize():f} {rx.product.unit} · "
                f"{rx.start_date:%d/%m/%Y} → {end}")

    def clean(self):
        data = super().clean()
        signs = data.get("intoxication") == self.SIGNS
        _check_withholding(self, data, signs=signs, answered="intoxication", messages={
            "given": _("Signs of intoxication: the dose was withheld, not given."),
            "why": _("Say why the dose was withheld.")})
        return data


class InductionRuleForm(forms.ModelForm):
    """A product's induction rule. Its figures are in the product's unit; a starting dose above
    the product's highest daily dose would never be reached."""

    class Meta:
        model = InductionRule
        fields = ["max_starting_dose", "induction_days", "max_increase",
                  "min_days_between_increases", "supervised_days", "source"]
        widgets = {"source": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        for name in ("max_starting_dose", "max_increase"):
            self.fields[name].label = f"{self.fields[name].label} ({product.unit})"
        self.fields["induction_days"].validators.append(MaxValueValidator(365))
        self.fields["supervised_days"].validators.append(MaxValueValidator(365))
        self.fields["min_days_between_increases"].validators.append(MaxValueValidator(365))

    def _positive(self, name):
        value = self.cleaned_data[name]
        if value <= 0:
            raise forms.ValidationError(_("Must be above zero."))
        return value

    def clean_max_starting_dose(self):
        dose = self._positive("max_starting_dose")
        if dose > self.product.max_daily_dose:
            raise forms.ValidationError(
                _("Above the highest daily dose of the product (%(max)s %(unit)s).")
                % {"max": f"{self.product.max_daily_dose.normalize():f}",
                   "unit": self.product.unit})
        return dose

    def clean_max_increase(self):
        return self._positive("max_increase")

    def clean_induction_days(self):
        return self._positive("induction_days")

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if not source:
            raise forms.ValidationError(_("Name the guideline (or the team's decision) these "
                                          "figures come from."))
        return source


class ClosedDayPlanForm(forms.Form):
    """A doctor's plan for a flagged patient's closed days (on the closed-day plan page)."""

    first_day = forms.DateField(label=_("First closed day"), widget=forms.HiddenInput)
    last_day = forms.DateField(label=_("Last closed day"), widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=_("Decision"), choices=ClosedDayPlan.Decision.choices,
                                 widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note for the counter"), max_length=500,
                           widget=forms.TextInput(attrs={"placeholder": _(
                               "e.g. doses at the partner pharmacy, seen Monday")}))
