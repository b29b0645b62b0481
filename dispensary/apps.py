from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispensaryConfig(AppConfig):
    name = "dispensary"
    verbose_name = _("Dispensary")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from dispensary import panels, selectors, services
        from mass import contributions as c

        c.CONTACT_SOURCES.register(self.name, selectors.contact_day_querysets)
        c.MERGE_CHECKS.register(self.name, services.merge_conflicts)
        c.TIMELINE_KINDS.register(self.name, selectors.dispensations_timeline_kind)
        c.can_see_dispensing.provide(selectors.can_see_dispensing)
        c.prescriptions_in_force.provide(selectors.prescriptions_in_force)
        title = _("Substitution treatment")
        c.PATIENT_PANELS.register_panel(c.Panel(
            key="dispensary", title=title, template="dispensary/_panel.html",
            context=panels.panel_context, order=30))
        c.SUMMARY_SECTIONS.register_panel(c.Panel(
            key="dispensary", title=title, template="dispensary/summary.html",
            context=panels.summary_context, order=30))
