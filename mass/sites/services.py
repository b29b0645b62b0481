"""Writes on the sites: a site, its weekly opening hours, its one-off closures. Each is one
transaction with its audit row."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.audit import Action, audit_record
from mass.models import OpeningHours, Site, SiteClosure


@transaction.atomic
def site_save(*, site: Site, actor) -> Site:
    creating = site.pk is None
    site.save()
    audit_record(actor=actor, action=Action.CREATE if creating else Action.UPDATE, obj=site,
                 summary=gettext_noop("site %(site)s"), params={"site": site.name})
    return site


def site_opening_hours_set(*, site: Site, hours: dict[int, tuple], actor) -> Site:
    """Set the weekly opening hours of ``site``: ``hours`` maps a weekday (0 = Monday) to
    (opens, closes); a weekday absent is closed. Reference data, replaced as a whole; the
    audit row keeps the hours before and after."""
    def text(rows):
        return {str(day): f"{opens:%H:%M}-{closes:%H:%M}" for day, opens, closes in rows}

    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        before = text(site.opening_hours.order_by("weekday", "opens")
                      .values_list("weekday", "opens", "closes"))
        site.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(site=site, weekday=day, opens=opens, closes=closes)
            for day, (opens, closes) in sorted(hours.items()))
        audit_record(actor=actor, action=Action.UPDATE, obj=site,
                     summary=gettext_noop("opening hours of %(site)s"), params={"site": site.name},
                     details={"before": before,
                              "after": text((d, o, c) for d, (o, c) in sorted(hours.items()))})
    return site


def site_closure_create(*, site: Site, first_day: datetime.date, last_day: datetime.date,
                        reason: str, actor, today: datetime.date | None = None) -> SiteClosure:
    """Record a one-off closure. Refused, nothing written: a day in the past, a last day
    before the first, no reason, or days of another closure of the site (checked here with
    a sentence, and by the database's exclusion constraint for two coordinators at once)."""
    today = today or timezone.localdate()
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the site is closed."))
    if last_day < first_day:
        raise ValidationError(_("The last closed day is before the first one."))
    if first_day < today:
        raise ValidationError(_("A closure cannot start in the past (%(day)s): the doses of "
                                "past days are already recorded.")
                              % {"day": date_format(first_day)})
    try:
        with transaction.atomic():
            Site.objects.select_for_update().get(pk=site.pk)
            other = (SiteClosure.objects.filter(site=site, first_day__lte=last_day,
                                                last_day__gte=first_day)
                     .order_by("first_day").first())
            if other is not None:
                raise ValidationError(
                    _("These days overlap another closure of %(site)s, from %(first)s to "
                      "%(last)s (%(reason)s). Nothing was recorded.")
                    % {"site": site, "first": date_format(other.first_day),
                       "last": date_format(other.last_day), "reason": other.reason})
            closure = SiteClosure.objects.create(site=site, first_day=first_day,
                                                 last_day=last_day, reason=reason,
                                                 created_by=actor)
            audit_record(actor=actor, action=Action.CREATE, obj=closure,
                         summary=gettext_noop("closure of %(site)s %(first_day)s to "
                                              "%(last_day)s"),
                         params={"site": site.name, "first_day": str(first_day),
                                 "last_day": str(last_day)},
                         details={"reason": reason})
            return closure
    except IntegrityError as exc:
        raise ValidationError(_("These days overlap another closure of %(site)s. Nothing was "
                                "recorded.") % {"site": site}) from exc


def site_closure_delete(*, closure: SiteClosure, actor,
                        today: datetime.date | None = None) -> None:
    """Withdraw a closure recorded by mistake, before it starts (once started, the doses of
    its days were planned on it: it stays as history)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        closure = SiteClosure.objects.select_for_update().select_related("site").get(
            pk=closure.pk)
        if closure.first_day <= today:
            raise ValidationError(_("This closure has started: it stays on record."))
        audit_record(actor=actor, action=Action.CANCEL, obj=closure,
                     summary=gettext_noop("closure of %(site)s %(first_day)s to "
                                          "%(last_day)s withdrawn"),
                     params={"site": closure.site.name, "first_day": str(closure.first_day),
                             "last_day": str(closure.last_day)},
                     details={"reason": closure.reason})
        closure.delete()
