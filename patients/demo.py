"""Demo data: pseudonymous patients, treatment episodes, walk-ins and anonymous harm-reduction
contacts at the volumes of seed 000 (2016): about 624 distinct people a year, 48 a day on
278 activity days, 162 new and 202 resumption requests a year.

:func:`generate` is pure Python (a seeded random generator, no database), so the benchmark
can write the same kind of history as CSV files for ``import_records``; :func:`seed` loads it
with COPY. Names are random combinations of common first names, surnames and street names:
nobody real.
"""

import datetime
import math
import random
from dataclasses import dataclass, field

from patients.validators import niss_is_valid

ALIASES = [
    "Momo", "Jojo", "Le Grand", "Bébert", "Nounours", "Tintin", "Mimi", "Zaza", "Kiki",
    "Rasta", "Le Chat", "Papy", "Ti-Jean", "Coco", "Loulou", "Babar", "Fifi", "Ritchie",
    "Moustache", "Le Belge", "Marco", "Titi", "Dédé", "Pépé", "Lolo", "Sami", "Nono", "Gigi",
    "Bouboule", "L'Ardennais", "Le Prof", "Speedy", "Kéké", "Polo", "Mamie", "Pitchoun",
    "Le Marin", "Bruxelles", "La Fouine", "Toto", "Chouchou", "Rocky", "Ziggy", "Bamba",
    "Le Hollandais", "Yaya", "Didi", "Fanfan", "Lulu", "Nanou", "Bijou", "Flèche",
]
LAST_NAMES = [
    "Dupont", "Janssens", "Peeters", "Maes", "Jacobs", "Mertens", "Willems", "Claes",
    "Goossens", "Wouters", "De Smet", "Lambert", "Dubois", "Lefèvre", "Leclercq", "Benali",
    "El Amrani", "Kowalski", "Nowak", "Popescu", "Diallo", "Mukendi", "Vandenberghe",
    "Van Damme", "Martin", "Simon", "Laurent", "Lejeune", "Renard", "Collard", "Ben Salah",
    "Haddad", "Ferreira", "Da Silva", "Rossi", "Öztürk", "Yilmaz", "Ionescu", "Kabongo",
    "Verhoeven", "Hermans", "Michiels", "Desmet", "François", "Gérard", "Noël",
]
FIRST_NAMES = {
    "M": ["Jean", "Marc", "Mohamed", "Ahmed", "Karim", "Youssef", "Pieter", "Jan", "Luc",
          "François", "Stéphane", "Piotr", "Mehmet", "Ion", "Patrick", "Thierry", "Rachid",
          "Kevin", "Dirk", "Abdel", "José", "Michaël", "Frédéric", "Éric"],
    "F": ["Sophie", "Marie", "Fatima", "Nadia", "Ana", "Ioana", "Élodie", "Hélène", "Nathalie",
          "Sandra", "Leen", "Katrien", "Aïcha", "Véronique", "Isabelle", "Agnieszka", "Samira",
          "Chantal", "Els", "Dominique"],
}
NATIONALITIES = ["BE"] * 12 + ["MA", "FR", "RO", "PL", "IT", "CD", "TR", "PT", "NL", "DZ", ""]

# Seed 000, per year at scale 1.
PEOPLE_PER_YEAR = 630  # about 624 of them have a contact in the year
NEW_REQUESTS = 162
RESUMPTIONS = 202
ACTIVITY_DAYS = 278
RETURNING_SHARE = 0.45  # of a year's people, how many were there the year before
REVIVED_SHARE = 0.22  # ... and how many come back after a year or more away
# Kinds of attendance (share of people, daily probability of coming, share present all
# year): tuned so that the yearly, monthly, weekly and daily distinct counts match seed 000.
ATTENDANCE = {
    "daily": (0.05, (0.35, 0.70), 0.80),
    "regular": (0.50, (0.07, 0.18), 0.55),
    "occasional": (0.27, (0.015, 0.05), 0.55),
    "once": (0.18, None, 0.0),
}
PURPOSES = {
    "daily": [("dispensing", 70), ("consultation", 10), ("hygiene", 8), ("social", 4),
              ("harm_reduction", 4), ("other", 4)],
    "default": [("dispensing", 22), ("consultation", 25), ("hygiene", 16), ("social", 14),
                ("harm_reduction", 15), ("other", 8)],
}
CLOSURE_REASONS = [("lost_contact", 45), ("reoriented", 20), ("moved", 9), ("incarcerated", 10),
                   ("hospitalised", 6), ("deceased", 2), ("other", 8)]
OUTREACH_SHARE = 0.04
WOERINGEN_HOURS = {0: (10, 19), 1: (11, 19), 2: (10, 19), 3: (14, 19), 4: (10, 19), 5: (10, 13)}
FILE_PREFIX = "D"


@dataclass
class DemoData:
    # (file_number, alias, last_name, first_name, birth_date, birth_year, sex, language,
    #  nationality, niss)
    patients: list[tuple] = field(default_factory=list)
    # (patient index, opened_on, kind, closed_on or None, closure_reason)
    episodes: list[list] = field(default_factory=list)
    # (patient index, date, time, site: None for the centre or an outreach index, purpose)
    visits: list[tuple] = field(default_factory=list)
    # (date, site, material, handed_out, returned)
    material: list[tuple] = field(default_factory=list)
    activity_days: list[datetime.date] = field(default_factory=list)


def easter(year: int) -> datetime.date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    return datetime.date(year, month, (h + l_ - 7 * m + 33 * month + 19) % 32)


def public_holidays(year: int) -> set[datetime.date]:
    e = easter(year)
    return {datetime.date(year, 1, 1), e + datetime.timedelta(days=1), datetime.date(year, 5, 1),
            e + datetime.timedelta(days=39), e + datetime.timedelta(days=50),
            datetime.date(year, 7, 21), datetime.date(year, 8, 15), datetime.date(year, 11, 1),
            datetime.date(year, 11, 11), datetime.date(year, 12, 25)}


def activity_days(start: datetime.date, end: datetime.date, hours: dict, rng,
                  keep: datetime.date | None = None) -> list:
    """Opening days of the centre between start and end, without public holidays, thinned
    (staff training, strikes, closures) to about 278 a year. ``keep`` is kept open."""
    days, day = [], start
    holidays: dict[int, set] = {}
    while day <= end:
        if day == keep:
            days.append(day)
        elif day.weekday() in hours:
            if day.year not in holidays:
                holidays[day.year] = public_holidays(day.year)
            if day not in holidays[day.year]:
                days.append(day)
        day += datetime.timedelta(days=1)
    wanted = round(ACTIVITY_DAYS * ((end - start).days + 1) / 365.25)
    if len(days) > wanted:
        kept = set(rng.sample(range(len(days)), wanted))
        days = [d for i, d in enumerate(days) if i in kept or d == keep]
    return days


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _niss(birth: datetime.date, serial: int) -> str:
    base = f"{birth:%y%m%d}{serial:03d}"
    number = int(base) if birth.year < 2000 else int("2" + base)
    niss = f"{base}{97 - number % 97:02d}"
    assert niss_is_valid(niss)
    return niss


class _People:
    """Identities, made up as people appear."""

    def __init__(self, rng, today: datetime.date, prefix: str, first_number: int):
        self.rng, self.today, self.prefix = rng, today, prefix
        self.rows: list[tuple] = []
        self.niss_serials: dict[datetime.date, int] = {}
        self.first_number = first_number

    def new(self) -> int:
        rng = self.rng
        index = len(self.rows)
        sex = _weighted(rng, [("M", 78), ("F", 20), ("X", 1), ("U", 1)])
        first_names = FIRST_NAMES["F" if sex == "F" else "M"]
        alias = rng.choice(ALIASES)
        if rng.random() < 0.35:  # two Momos are told apart by something
            alias = f"{alias} {rng.choice(['de la gare', 'du parc', 'le petit', 'B.', 'II'])}"
        named = rng.random() < 0.6
        last = rng.choice(LAST_NAMES) if named else ""
        first = rng.choice(first_names) if named else ""
        birth_date, birth_year, niss = None, None, ""
        known = rng.random()
        year = self.today.year - rng.randint(19, 66)
        if known < 0.45:
            birth_date = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))
            birth_year = year
            if named and rng.random() < 0.6:
                serial = self.niss_serials.get(birth_date, rng.randint(1, 400)) + 2
                self.niss_serials[birth_date] = serial
                niss = _niss(birth_date, serial)
        elif known < 0.8:
            birth_year = year
        language = _weighted(rng, [("fr", 62), ("nl", 14), ("en", 4), ("other", 10), ("", 10)])
        nationality = rng.choice(NATIONALITIES)
        number = f"{self.prefix}{self.first_number + index:06d}"
        self.rows.append((number, alias, last, first, birth_date, birth_year, sex, language,
                          nationality, niss))
        return index


def _geometric(rng, p: float) -> int:
    return int(math.log(1.0 - rng.random()) / math.log(1.0 - p)) + 1


def generate(*, start: datetime.date, end: datetime.date, scale: float = 1.0, seed: int = 0,
             returning_share: float = RETURNING_SHARE, hours: dict | None = None,
             outreach_sites: int = 6, prefix: str = FILE_PREFIX, first_number: int = 1,
             now: datetime.datetime | None = None, open_on: datetime.date | None = None
             ) -> DemoData:
    """History between ``start`` and ``end`` at ``scale`` times seed 000. With
    ``returning_share=0`` every year brings new people only (the benchmark's "60,000 files in
    a decade")."""
    rng = random.Random(seed)
    hours = hours or WOERINGEN_HOURS
    data = DemoData()
    data.activity_days = activity_days(start, end, hours, rng, keep=open_on)
    people = _People(rng, end, prefix, first_number)
    kinds: dict[int, tuple] = {}  # person -> (kind, daily probability)
    open_episode: dict[int, list] = {}
    last_closed: dict[int, datetime.date] = {}
    last_seen: dict[int, datetime.date] = {}
    ever: set[int] = set()
    previous: list[int] = []
    per_year = max(1, round(PEOPLE_PER_YEAR * scale))

    # Calendar years (the first and last may be partial), as the yearly figures count them.
    periods: dict[int, list[datetime.date]] = {}
    for day in data.activity_days:
        periods.setdefault(day.year, []).append(day)
    for year_number, year in enumerate(sorted(periods)):
        days = periods[year]
        share_of_year = len(days) / ACTIVITY_DAYS
        # A short first or last year still has everybody of the time; fewer are seen.
        wanted = per_year
        keep = [p for p in previous if rng.random() < returning_share * 1.2][
            : round(wanted * returning_share)]
        if returning_share:
            away = [p for p in last_seen if p not in set(previous)]
            keep += rng.sample(away, min(len(away), round(wanted * REVIVED_SHARE)))
        population = keep + [people.new() for _ in range(wanted - len(keep))]
        for person in population:
            if person not in kinds or rng.random() < 0.2:
                kind = _weighted(rng, [(k, v[0]) for k, v in ATTENDANCE.items()])
                p_range = ATTENDANCE[kind][1]
                kinds[person] = (kind, rng.uniform(*p_range) if p_range else 0.0)
        if year_number == 0:
            _prehistory(rng, population, kinds, start, data, open_episode, last_closed, ever)

        seen: dict[int, list[int]] = {}
        n = len(days)
        for person in population:
            kind, p = kinds[person]
            if kind == "once":
                chosen = sorted(rng.sample(range(n), min(n, rng.choice([1, 1, 1, 2, 2, 3]))))
            else:
                if rng.random() < ATTENDANCE[kind][2]:
                    first, last = 0, n
                else:
                    length = max(1, int(n * rng.uniform(0.1, 0.7)))
                    first = rng.randrange(0, n - length + 1)
                    last = first + length
                chosen, j = [], first - 1 + _geometric(rng, p)
                while j < last:
                    chosen.append(j)
                    j += _geometric(rng, p)
            if chosen:
                seen[person] = chosen
        _episodes_of_year(rng, days, seen, kinds, scale * share_of_year, data, open_episode,
                          last_closed, ever, last_seen)
        for person, chosen in seen.items():
            last_seen[person] = days[chosen[-1]]
        for person, chosen in seen.items():
            purposes = PURPOSES["daily" if kinds[person][0] == "daily" else "default"]
            for j in chosen:
                _visits_of_day(rng, data, person, days[j], purposes, hours, outreach_sites, now)
        for day in days:
            _material_of_day(rng, data, day, scale, outreach_sites)
        previous = list(seen)
    for episode in open_episode.values():
        data.episodes.append(episode)
    data.patients = people.rows
    return data


def _prehistory(rng, population, kinds, start, data, open_episode, last_closed, ever):
    """The first year needs a past: some people were treated before (so resumptions exist)
    and some are in treatment since before the period."""
    for person in population:
        kind = kinds[person][0]
        treated = {"daily": 0.9, "regular": 0.7, "occasional": 0.45, "once": 0.2}[kind]
        if rng.random() >= treated:
            continue
        opened = start - datetime.timedelta(days=rng.randint(200, 2500))
        ever.add(person)
        if kind in ("daily", "regular") and rng.random() < 0.55:
            open_episode[person] = [person, opened, "new", None, ""]
        else:
            closed = min(opened + datetime.timedelta(days=rng.randint(30, 700)),
                         start - datetime.timedelta(days=30))
            closed = max(closed, opened)
            data.episodes.append([person, opened, "new", closed,
                                  _weighted(rng, CLOSURE_REASONS)])
            last_closed[person] = closed


def _episodes_of_year(rng, days, seen, kinds, scale, data, open_episode, last_closed, ever,
                      last_seen):
    weight = {"daily": 6, "regular": 3, "occasional": 1, "once": 0.3}
    # Episodes end: people who stopped coming, and some who finished or left.
    for person, episode in list(open_episode.items()):
        visits = seen.get(person)
        if not visits:  # gone: the episode ended with the last contact
            ending = last_seen.get(person, episode[1])
        elif visits[-1] < len(days) - 40:  # stopped coming during the year
            ending = days[visits[-1]]
        elif rng.random() < 0.85:  # ended treatment but still comes to the desk
            ending = days[visits[rng.randrange(0, max(1, len(visits) * 2 // 3))]]
        else:
            continue
        if True:
            closed = max(ending, episode[1])
            episode[3], episode[4] = closed, _weighted(rng, CLOSURE_REASONS)
            data.episodes.append(episode)
            del open_episode[person]
            last_closed[person] = closed

    def pick(candidates, count):
        chosen = []
        candidates = list(candidates)
        rng.shuffle(candidates)
        candidates.sort(key=lambda person: -weight[kinds[person][0]] * rng.random())
        for person in candidates:
            if len(chosen) >= count:
                break
            chosen.append(person)
        return chosen

    new = pick([p for p in seen if p not in ever and p not in open_episode],
               round(NEW_REQUESTS * scale))
    resume = pick([p for p in seen if p in ever and p not in open_episode
                   and (p not in last_closed or days[seen[p][-1]] > last_closed[p])],
                  round(RESUMPTIONS * scale))
    for kind, people in (("new", new), ("resumption", resume)):
        for person in people:
            after = last_closed.get(person)
            options = [days[j] for j in seen[person] if after is None or days[j] > after]
            if not options:
                continue
            opened = options[0] if rng.random() < 0.5 else rng.choice(options)
            open_episode[person] = [person, opened, kind, None, ""]
            ever.add(person)


def _visits_of_day(rng, data, person, day, purposes, hours, outreach_sites, now):
    opens, closes = hours.get(day.weekday(), (10, 19))
    site = None
    if outreach_sites and rng.random() < OUTREACH_SHARE:
        site = rng.randrange(outreach_sites)
        purposes = [("harm_reduction", 60), ("other", 25), ("social", 15)]
    count = 2 if rng.random() < 0.12 else 1
    minute = rng.randrange(opens * 60, closes * 60 - 5)
    used = set()
    for _ in range(count):
        purpose = _weighted(rng, purposes)
        if purpose in used:
            continue
        used.add(purpose)
        time = datetime.time(minute // 60, minute % 60)
        if now is not None and day == now.date() and time > now.time():
            return  # today's arrivals so far only
        data.visits.append((person, day, time, site, purpose))
        minute = min(minute + rng.randint(5, 90), closes * 60 - 1)


def _material_of_day(rng, data, day, scale, outreach_sites):
    materials = [("syringe", 30), ("stericup", 15), ("water", 10), ("filter", 10),
                 ("wipe", 10), ("pipe", 10), ("foil", 8), ("condom", 5), ("naloxone", 1),
                 ("container", 1)]
    for _ in range(max(1, round(rng.randint(3, 9) * scale))):
        material = _weighted(rng, materials)
        handed_out = rng.randint(1, 20)
        returned = rng.randint(0, handed_out) if material == "syringe" else 0
        site = rng.randrange(outreach_sites) if outreach_sites and rng.random() < 0.2 else None
        data.material.append((day, site, material, handed_out, returned))


# --- loading --------------------------------------------------------------------------------

def seed(*, years: int, scale: float, stdout) -> None:
    """Demo patients, episodes, walk-ins and harm-reduction contacts for the last ``years``
    years. Idempotent: if demo files exist already, nothing is added."""
    from django.db import connection, transaction
    from django.utils import timezone

    from mass.models import OpeningHours, Site, User
    from patients.models import Patient
    from patients.selectors import months_before

    if Patient.objects.filter(file_number__regex=rf"^{FILE_PREFIX}[0-9]{{6}}$").exists():
        stdout.write("patients: demo files present already, nothing added.")
        return
    started = timezone.now()
    today = timezone.localdate()
    start = months_before(today, 12 * years) + datetime.timedelta(days=1)
    centre = Site.objects.filter(name="MASS Woeringen").first()
    hours = None
    if centre is not None:
        hours = {h.weekday: (h.opens.hour, max(h.closes.hour, h.opens.hour + 1))
                 for h in OpeningHours.objects.filter(site=centre)}
    outreach = list(Site.objects.exclude(kind=Site.Kind.CENTRE).filter(is_active=True)
                    .order_by("name"))
    data = generate(start=start, end=today, scale=scale, hours=hours or None,
                    outreach_sites=len(outreach), now=timezone.localtime())
    desk = User.objects.filter(username="reception").first()

    def site_id(index):
        return centre.pk if index is None or not outreach else outreach[index].pk

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(
            "COPY patients_patient (file_number, alias, last_name, first_name, birth_date, "
            "birth_year, sex, language, nationality, niss, phone, address, status, notes, "
            "distinguishing_note, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in data.patients:
                copy.write_row((*row, "", "", "active", "", distinguishing_feature(row[0]),
                                now, now))
        cursor.execute("SELECT file_number, id FROM patients_patient WHERE file_number ~ %s",
                       [rf"^{FILE_PREFIX}[0-9]{{6}}$"])
        ids_by_number = dict(cursor.fetchall())
        ids = [ids_by_number[row[0]] for row in data.patients]
        with cursor.copy("COPY patients_episode (patient_id, opened_on, kind, closed_on, "
                         "closure_reason, closure_note, created_at) FROM STDIN") as copy:
            for person, opened, kind, closed, reason in sorted(
                    data.episodes, key=lambda e: (e[3] is None, e[1])):
                copy.write_row((ids[person], opened, kind, closed, reason, "", now))
        with cursor.copy("COPY patients_visit (patient_id, site_id, date, time, purpose, note, "
                         "logged_by_id, created_at) FROM STDIN") as copy:
            for person, day, time, site, purpose in data.visits:
                copy.write_row((ids[person], site_id(site), day, time, purpose, "",
                                desk.pk if desk and site is None else None, now))
        with cursor.copy("COPY patients_harmreductioncontact (date, site_id, material, "
                         "handed_out, returned, created_at) FROM STDIN") as copy:
            for day, site, material, handed_out, returned in data.material:
                copy.write_row((day, site_id(site), material, handed_out, returned, now))
    photos = seed_photos(today=today, actor=desk)
    seconds = (timezone.now() - started).total_seconds()
    stdout.write(f"patients: {len(data.patients)} files ({photos} with a placeholder photo), "
                 f"{len(data.episodes)} episodes, "
                 f"{len(data.visits)} walk-ins, {len(data.material)} harm-reduction contacts "
                 f"({seconds:.1f} s).")



#: What staff note to tell same-alias files apart (the demo's 52 aliases are shared by many).
FEATURES = ["tattoo left hand", "tattoo on the neck", "scar on the chin", "red cap",
            "walks with a stick", "comes with a dog", "glasses", "grey beard", "gold tooth",
            "missing front tooth", "earring right ear", "green anorak"]


def distinguishing_feature(file_number: str) -> str:
    """A feature for about one file in three, the same for a file at every seed."""
    rng = random.Random(f"feature-{file_number}")
    return rng.choice(FEATURES) if rng.random() < 0.35 else ""


#: Demo photos: placeholders drawn here (a silhouette on a colour, no face: no real person),
#: stored with consent for a few people who came in the last days, so that the lists show
#: thumbnails next to the files without one.
DEMO_PHOTOS = 12
PALETTE = [(233, 196, 106), (244, 162, 97), (42, 157, 143), (138, 177, 125), (181, 101, 118),
           (109, 89, 122), (86, 117, 166), (229, 152, 155)]


def placeholder_photo(number: int) -> bytes:
    """A head-and-shoulders silhouette on a colour, 360 x 480 JPEG."""
    from io import BytesIO

    from PIL import Image, ImageDraw
    background = PALETTE[number % len(PALETTE)]
    figure = tuple(max(0, c - 70) for c in background)
    image = Image.new("RGB", (360, 480), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((115, 90, 245, 240), fill=figure)
    draw.rounded_rectangle((50, 270, 310, 560), radius=110, fill=figure)
    out = BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def seed_photos(*, today: datetime.date, actor) -> int:
    """Placeholder photos, with consent, for the first people who came in the last week."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patients import services
    from patients.models import Patient

    recent = (Patient.objects.filter(file_number__regex=rf"^{FILE_PREFIX}[0-9]{{6}}$",
                                     visits__date__gte=today - datetime.timedelta(days=7))
              .distinct().order_by("file_number")[:DEMO_PHOTOS])
    for number, patient in enumerate(recent):
        upload = SimpleUploadedFile("demo.jpg", placeholder_photo(number),
                                    content_type="image/jpeg")
        services.patient_photo_store(patient=patient, upload=upload, source="upload",
                                     consent_given=True, actor=actor)
    return len(recent)
