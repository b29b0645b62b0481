from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = _("Clinical record")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from clinical import panels, selectors
        from mass import contributions as c

        # "ECG due" in the banner of every page of the patient, derived when read.
        c.derived_alerts.provide(selectors.derived_alerts)
        c.derived_alerts_by_patient.provide(selectors.derived_alerts_by_patient)
        c.PATIENT_PANELS.register_panel(c.Panel(
            key="clinical", title=_("Problems and measures"),
            template="clinical/panel.html", context=panels.clinical_panel_context, order=25))
        for key, title, order, context in [
                ("problems", _("Problem list"), 10, panels.problems_section),
                ("alerts", _("Alerts"), 20, panels.alerts_section),
                ("treatment", _("Treatment in force"), 30, panels.prescription_section),
                ("measures", _("Last measures"), 40, panels.measures_section)]:
            c.CLINICAL_SUMMARY_SECTIONS.register_panel(c.Panel(
                key=key, title=title, template=f"clinical/section_{key}.html",
                context=context, order=order))
