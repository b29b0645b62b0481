from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaccinationsConfig(AppConfig):
    name = "vaccinations"
    verbose_name = _("Vaccinations")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from mass import contributions as c
        from vaccinations import panels, selectors, summary

        c.PATIENT_PANELS.register_panel(c.Panel(
            key="vaccinations", title=_("Vaccinations"),
            template="vaccinations/panel_vaccinations.html",
            context=panels.vaccinations_context, order=72))
        # "Vaccinations due" on the clinical summary and on the printed summary of the file,
        # with the same read rule.
        due = c.Panel(key="vaccinations_due", title=_("Vaccinations due"),
                      template=summary.TEMPLATE,
                      context=panels.vaccinations_due_context, order=50)
        c.CLINICAL_SUMMARY_SECTIONS.register_panel(due)
        c.SUMMARY_SECTIONS.register_panel(due)
        c.TIMELINE_KINDS.register(self.name, selectors.doses_timeline_kind)
