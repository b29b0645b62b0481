"""The centre's sites (the centre, the partner pharmacies, outreach places): their list and
details, weekly opening hours and one-off closures, and the one answer to "is this site open
on that day" (``selectors.site_calendar``: hours, closures, Belgian public holidays). The
models (``Site``, ``OpeningHours``, ``SiteClosure``) stay in ``mass.models`` (app label
``mass``): see docs/style.md, "Layout"."""
