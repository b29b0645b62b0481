"""The page of a form that records something new on a patient's file (a lab result, a
treatment, a vaccination course): the apps give the form, their service and the words; the
steps are the same for all (mass.corrections does the same for cancellations)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from mass.audit import audit_read
from mass.refusals import refusal_on_form


def record_form_page(request, *, patient, form, save, done: str, title: str, read: str,
                     may_save: bool = True):
    """On a valid POST (and ``may_save``), ``save(cleaned_data)``, the app's service: its
    refusal is shown on the form; else back to the file with ``done``. Otherwise the form
    (``title``), the reading of the file audited with ``read`` (a summary code taking the
    file number)."""
    if request.method == "POST" and form.is_valid() and may_save:
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, done)
            return redirect(patient.get_absolute_url())
    audit_read(actor=request.user, obj=patient, summary=read,
               params={"file": patient.file_number})
    return render(request, "mass/record_form.html",
                  {"form": form, "patient": patient, "title": title})
