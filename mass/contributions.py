"""What the apps contribute to each other: the one way an app asks the others for something.

The patients app is the base the others build on, so it cannot import them; the others
attach records to a patient and have a say in how the file is shown, counted and merged.
Each app fills the registries below in its ``AppConfig.ready()`` (``<app>/apps.py``), and
the asking code reads the registry, never an app by name. Reading ``<app>/apps.py`` tells
what an app contributes; reading this module tells everything that can be contributed.

Two shapes:

- :class:`Registry`: many contributions, one per key (the contact records of each app, the
  panels of the patient file, ...), in the order they were registered (``INSTALLED_APPS``).
- :class:`Provided`: one function that one app owns and others call (the dispensary's read
  rule, the TDI questionnaires' state, ...); ``default`` answers when no app provides it,
  so the asking app still works on its own (its tests, a trimmed install).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, QuerySet, Value
from django.http import HttpRequest
from django.utils.functional import Promise


class Registry[T]:
    """Contributions keyed by a name unique in the registry, kept in registration order."""

    def __init__(self, name: str):
        self.name = name
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> None:
        # ready() may run twice (a test re-populating the app registry): the same
        # contribution again is fine, another one under a taken key is a mistake.
        if key in self._items and self._items[key] != item:
            raise ImproperlyConfigured(f"{self.name}: {key!r} is already registered")
        self._items[key] = item

    def unregister(self, key: str) -> None:
        del self._items[key]

    def __getitem__(self, key: str) -> T:
        return self._items[key]

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def keys(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())


class Provided[T]:
    """One function provided by one app for the others; calling this calls it, or
    ``default`` when no app provides it."""

    def __init__(self, name: str, default: T):
        self.name = name
        self.default = default
        self.function: T | None = None

    def provide(self, function: T) -> None:
        if self.function is not None and self.function is not function:
            raise ImproperlyConfigured(f"{self.name} is already provided by "
                                       f"{self.function.__module__}")
        self.function = function

    @property
    def provided(self) -> bool:
        return self.function is not None

    def __call__(self, *args, **kwargs):
        return (self.function or self.default)(*args, **kwargs)


# --- the patient file ---------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """A panel of the patient file (or a section of its printed summary).

    ``context(request, patient)`` returns a dict for ``template``, or ``None`` when this user
    may not see the panel at all. It applies the app's own read rules (selectors taking the
    user) and issues a bounded number of queries (no query per row)."""

    key: str
    title: str | Promise
    template: str
    context: Callable[[HttpRequest, Any], dict | None]
    order: int = 100


class Panels(Registry[Panel]):
    def register_panel(self, panel: Panel) -> None:
        self.register(panel.key, panel)

    def shown(self, request, patient) -> list[tuple[Panel, dict]]:
        """The panels this user sees on this patient's file, in ``order``, with their
        context."""
        shown = []
        for panel in sorted(self, key=lambda p: (p.order, p.key)):
            context = panel.context(request, patient)
            if context is not None:
                shown.append((panel, context))
        return shown


#: The panels of the patient file (patients.views.patient_detail).
PATIENT_PANELS = Panels("patient file panels")

#: The sections of the printed patient summary (patients.views.patient_summary): the same
#: read rules as the panels, so the summary shows a reader exactly what the file shows them,
#: without the buttons.
SUMMARY_SECTIONS = Panels("patient summary sections")

#: The sections of the clinical summary (clinical.views.clinical_summary): the problem list,
#: the alerts, the treatment in force, the last measures, and what other apps add (due
#: vaccinations, latest tests) without the clinical app knowing them. Each applies its own
#: read rules and a bounded number of queries, as a panel does.
CLINICAL_SUMMARY_SECTIONS = Panels("clinical summary sections")


@dataclass
class TimelineKind:
    """One kind of entry of the patient's timeline (consultations.selectors.timeline_for_user).

    ``rows(patient)`` is the patient's rows of that kind; ``date``/``time`` name their date
    and time (``time`` may be None or an expression); ``load(ids)`` returns
    ``{id: (object, detail)}`` for the page's rows in one query, where ``detail`` is True when
    the user reads the details (the owning app's read rule), False for "date and kind only".
    """

    key: str
    label: object
    rows: Callable[[Any], QuerySet]
    load: Callable[[list[int]], dict]
    date: str = "date"
    time: object = "time"


#: The kinds of timeline entries the other apps add, as ``kind(user) -> TimelineKind | None``
#: (None: this user sees no entry of that kind).
TIMELINE_KINDS: Registry[Callable[[Any], TimelineKind | None]] = Registry("timeline kinds")


# --- contacts and figures -----------------------------------------------------------------

#: What counts as a contact in each app (docs/domain.md): ``querysets() -> [QuerySet]`` of
#: (patient_id, date) rows. Read by the 6-month rule's timeline and the yearly figures.
CONTACT_SOURCES: Registry[Callable[[], list[QuerySet]]] = Registry("contact sources")

#: The SQL condition "this episode counts in the figures" on an episode table alias
#: (reporting.sql.episode_counted_sql); every episode counts when reporting is absent.
episode_counted_sql: Provided[Callable[[str], str]] = Provided(
    "episode_counted_sql", lambda alias: "true")

#: ``tdi_filled(episode_ref="pk") -> Exists``: the episode has its TDI questionnaire; no
#: questionnaire is ever due when no app records them.
tdi_filled: Provided[Callable[..., Exists | Value]] = Provided(
    "tdi_filled", lambda episode_ref="pk": Value(True))

#: ``tdi_record_ids(*, episode_ids) -> [int]``: the TDI questionnaire rows of these episodes.
tdi_record_ids: Provided[Callable[..., list[int]]] = Provided(
    "tdi_record_ids", lambda *, episode_ids: [])


# --- who may read what ----------------------------------------------------------------------

#: ``can_see_dispensing(user) -> bool``: the dispensary's read rule (products and doses).
can_see_dispensing: Provided[Callable[[Any], bool]] = Provided(
    "can_see_dispensing", lambda user: False)

#: ``readable_disciplines(user) -> set[str]``: the consultation disciplines whose notes the
#: user may read (the medical secret between disciplines).
readable_disciplines: Provided[Callable[[Any], set[str]]] = Provided(
    "readable_disciplines", lambda user: set())

#: ``prescriptions_in_force(*, user, patient) -> list | None``: the treatment in force that
#: a clinician sees before writing a note (None: not theirs to see).
prescriptions_in_force: Provided[Callable[..., list | None]] = Provided(
    "prescriptions_in_force", lambda *, user, patient: None)


@dataclass(frozen=True)
class DerivedAlert:
    """An alert that follows from the records when they are read (the clinical app's "ECG
    due"), shown in the banner beside the recorded ones; nobody records or ends it, it goes
    when the records no longer call for it. ``kind`` is an alerts kind (its label and its
    readers, alerts.rules)."""

    kind: str
    text: str | Promise


#: ``derived_alerts(*, user, patient) -> [DerivedAlert]``: those this user reads, in a bounded
#: number of queries (the banner of every page of the patient).
derived_alerts: Provided[Callable[..., list[DerivedAlert]]] = Provided(
    "derived_alerts", lambda *, user, patient: [])

#: ``derived_alerts_by_patient(*, prescriptions) -> {patient id: [DerivedAlert]}``: the same
#: alerts for the dispensing list's rows (the prescriptions in force it shows, their product
#: loaded), in at most one query for the whole list; the rows show the kinds their reader reads.
derived_alerts_by_patient: Provided[Callable[..., dict[int, list[DerivedAlert]]]] = Provided(
    "derived_alerts_by_patient", lambda *, prescriptions: {})


# --- merging two files of one person ------------------------------------------------------

#: Why two files cannot be merged yet, by app: ``check(*, kept, merged) -> [str]`` (the
#: reasons, translated). patients.services.patient_merge refuses while any reason stands.
MERGE_CHECKS: Registry[Callable[..., list[str]]] = Registry("merge checks")

#: What an app writes once the records have moved, ``step(*, kept, merged, actor) ->
#: {"app_label.model": rows}``: records of the kept file without which something left on the
#: stub would count nowhere (a group attendance standing on the stub where the kept file's own
#: was cancelled). The merge record keeps the counts (PatientMerge.recorded).
MERGE_STEPS: Registry[Callable[..., dict[str, int]]] = Registry("merge steps")
