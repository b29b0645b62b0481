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
        # The printed summary (until the clinical summary's registry exists on this branch).
        c.SUMMARY_SECTIONS.register_panel(c.Panel(
            key="latest_tests", title=_("Latest tests and cascade step"),
            template=summary.TEMPLATE,
            context=panels.latest_tests_context, order=71))
        c.TIMELINE_KINDS.register(self.name, selectors.results_timeline_kind)
