"""What tells apart two files of the same alias where staff pick a person (the dispensing
list, the dispense form, the desk board, the searches): the person's photo, as a thumbnail,
or without one their birth year, sex, last walk-in and distinguishing feature.

Rendered by templates/jinja2/patients/identity.html, for the busy lists (dispensary/rows.py,
patients/rows.py) as for the pages of one person; the sentences are translated once per page
(:class:`Identity`). The lists load "has a photo" and the last walk-in in their own query
(patients.sql.identity_columns_sql): no query per row.
"""

import datetime

from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from mass.rows import as_django_escapes, macros, once, url_with_pk
from patients.models import Patient
from patients.photos import THUMB_SIZE


class Identity:
    """One per page: the photo URL pattern, whether this user sees photos, the sentences."""

    def __init__(self, *, show_photos: bool):
        self.show_photos = show_photos
        self.photo_url = url_with_pk("patients:photo")
        self.template = macros("patients/identity.html")
        self.width, self.height = THUMB_SIZE[0] // 2, THUMB_SIZE[1] // 2
        self.alt = _("Photo of %(alias)s")
        self.born = _("born %(year)s")
        self.last_visit = _("last visit %(date)s")
        self.sexes = {value: str(label) for value, label in Patient.Sex.choices
                      if value != Patient.Sex.UNKNOWN}
        self._formatted: dict = {}

    def _once(self, key, compute) -> str:
        """A sentence repeated from row to row (a birth year, a date), made once a page."""
        return once(self._formatted, key, compute)

    def thumbnail(self, patient_id: int, alias: str) -> SafeString:
        """The thumbnail, fetched by the browser when the row shows (lazy)."""
        return as_django_escapes(self.template.thumbnail(
            self.photo_url(patient_id) + "?size=thumb", self.width, self.height,
            self.alt % {"alias": alias}, patient_id))

    def facts(self, *, has_photo: bool, birth_year, sex: str,
              last_visit: datetime.date | str | None, note: str) -> SafeString:
        """The facts line: without a photo (or one this user may not see), birth year, sex
        and last walk-in; the distinguishing feature always. "" when there is nothing."""
        shown = not (has_photo and self.show_photos)
        # Made once a page for each line: on a busy day many people say the same (born the
        # same year, last came yesterday), and the template costs more than the lookup.
        key = ("facts", birth_year, sex, last_visit, note) if shown else ("facts", note)
        return self._once(key, lambda: self._facts(
            birth_year=birth_year, sex=sex, last_visit=last_visit, note=note, shown=shown))

    def _facts(self, *, birth_year, sex: str, last_visit: datetime.date | str | None,
               note: str, shown: bool) -> SafeString:
        parts = []
        if shown:
            if birth_year:
                parts.append(self._once(("born", birth_year),
                                        lambda: self.born % {"year": birth_year}))
            if sex in self.sexes:
                parts.append(self.sexes[sex])
            if last_visit:
                parts.append(self._once(("visit", last_visit), lambda: self.last_visit % {
                    "date": formats.date_format(
                        datetime.date.fromisoformat(last_visit)
                        if isinstance(last_visit, str) else last_visit,
                        "SHORT_DATE_FORMAT")}))
        if not (parts or note):
            return SafeString("")
        return as_django_escapes(self.template.facts(" · ".join(parts), note))

    def photo(self, patient_id: int, alias: str, has_photo: bool) -> SafeString:
        """The thumbnail followed by a space, or "" (no photo, or not for this user)."""
        if has_photo and self.show_photos:
            return SafeString(self.thumbnail(patient_id, alias) + " ")
        return SafeString("")

    def of_patient(self, patient) -> tuple[SafeString, SafeString]:
        """(thumbnail, facts) of a Patient loaded with ``has_photo`` and ``last_visit``."""
        has_photo = getattr(patient, "has_photo", False)
        return (self.photo(patient.pk, patient.alias, has_photo),
                self.facts(has_photo=has_photo, birth_year=patient.birth_year, sex=patient.sex,
                           last_visit=getattr(patient, "last_visit", None),
                           note=patient.distinguishing_note))
