from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from mass import contributions as c
        from reporting import panels, selectors, sql

        c.episode_counted_sql.provide(sql.episode_counted_sql)
        c.tdi_filled.provide(selectors.tdi_filled)
        c.tdi_record_ids.provide(selectors.tdi_record_ids)
        c.PATIENT_PANELS.register_panel(c.Panel(
            key="tdi", title=_("TDI questionnaires"), template="reporting/panel_tdi.html",
            context=panels.tdi_context, order=90))
