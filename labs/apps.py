from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = _("Laboratory results")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from labs import panels, selectors, summary
        from mass import contributions as c

        c.PATIENT_PANELS.register_panel(c.Panel(
            key="labs", title=_("Lab results and cascades"), template="labs/panel_labs.html",
            context=panels.labs_context, order=71))
        # "Latest tests and cascade step" on the clinical summary and on the printed summary
        # of the file, with the same read rule.
        latest_tests = c.Panel(key="latest_tests", title=_("Latest tests and cascade step"),
                               template=summary.TEMPLATE,
                               context=panels.latest_tests_context, order=60)
        c.CLINICAL_SUMMARY_SECTIONS.register_panel(latest_tests)
        c.SUMMARY_SECTIONS.register_panel(latest_tests)
        c.TIMELINE_KINDS.register(self.name, selectors.results_timeline_kind)
