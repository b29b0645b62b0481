"""What tells apart two files of the same alias where staff pick a person (the dispensing
list, the dispense form, the desk board, the searches): the person's photo, as a thumbnail,
or without one their birth year, sex, last walk-in and distinguishing feature.

Rendered in Python for the busy lists (dispensary_rows, reception_rows), so every value
goes through ``e()`` (html.escape) and the sentences are translated once per page
(:class:`Identity`). The lists load "has a photo" and the last walk-in in their own query
(selectors.identity_columns_sql): no query per row.
"""

import datetime

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from mass.html import e
from patients.models import Patient
from patients.photos import THUMB_SIZE


class Identity:
    """One per page: the photo URL pattern, whether this user sees photos, the sentences."""

    def __init__(self, *, show_photos: bool):
        self.show_photos = show_photos
        head, tail = reverse("patients:photo", args=[0]).rsplit("/0/", 1)
        self.photo_url = (e(f"{head}/"), e(f"/{tail}?size=thumb"))
        self.width, self.height = THUMB_SIZE[0] // 2, THUMB_SIZE[1] // 2
        self.alt = _("Photo of %(alias)s")
        self.born = _("born %(year)s")
        self.last_visit = _("last visit %(date)s")
        self.sexes = {value: e(label) for value, label in Patient.Sex.choices
                      if value != Patient.Sex.UNKNOWN}
        self._formatted: dict = {}

    def _once(self, key, compute) -> str:
        """A sentence repeated from row to row (a birth year, a date), made once a page."""
        try:
            return self._formatted[key]
        except KeyError:
            value = self._formatted[key] = compute()
            return value

    def thumbnail(self, patient_id: int, alias: str) -> str:
        """The thumbnail, fetched by the browser when the row shows (lazy)."""
        head, tail = self.photo_url
        return (f'<img src="{head}{patient_id}{tail}" width="{self.width}" '
                f'height="{self.height}" loading="lazy" class="patient-thumb float-start me-2" '
                f'alt="{e(self.alt % {"alias": alias})}" data-photo="{patient_id}">')

    def facts(self, *, has_photo: bool, birth_year, sex: str,
              last_visit: datetime.date | str | None, note: str) -> str:
        """The facts line: without a photo (or one this user may not see), birth year, sex
        and last walk-in; the distinguishing feature always. "" when there is nothing."""
        parts = []
        if not (has_photo and self.show_photos):
            if birth_year:
                parts.append(self._once(("born", birth_year),
                                        lambda: e(self.born % {"year": birth_year})))
            if sex in self.sexes:
                parts.append(self.sexes[sex])
            if last_visit:
                parts.append(self._once(("visit", last_visit), lambda: e(self.last_visit % {
                    "date": formats.date_format(
                        datetime.date.fromisoformat(last_visit)
                        if isinstance(last_visit, str) else last_visit,
                        "SHORT_DATE_FORMAT")})))
        if note:
            parts.append(f'<span class="fst-italic" data-distinguishing>{e(note)}</span>')
        if not parts:
            return ""
        return f'<div class="patient-facts text-muted" data-facts>{" · ".join(parts)}</div>'

    def photo(self, patient_id: int, alias: str, has_photo: bool) -> str:
        """The thumbnail followed by a space, or "" (no photo, or not for this user)."""
        if has_photo and self.show_photos:
            return self.thumbnail(patient_id, alias) + " "
        return ""

    def of_patient(self, patient) -> tuple[str, str]:
        """(thumbnail, facts) of a Patient loaded with ``has_photo`` and ``last_visit``."""
        has_photo = getattr(patient, "has_photo", False)
        return (self.photo(patient.pk, patient.alias, has_photo),
                self.facts(has_photo=has_photo, birth_year=patient.birth_year, sex=patient.sex,
                           last_visit=getattr(patient, "last_visit", None),
                           note=patient.distinguishing_note))
