from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients")

    def ready(self):
        # What this app contributes to the others (mass.contributions): the others ask the
        # registries, never an app by name.
        from mass import contributions as c
        from patients import panels, selectors, signals

        signals.connect()
        c.CONTACT_SOURCES.register(self.name, selectors.contact_day_querysets)
        c.PATIENT_PANELS.register_panel(c.Panel(
            key="outreach", title=_("Outreach attempts"), template="patients/panel_outreach.html",
            context=panels.outreach_context, order=95))
