from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from consultations import panels, selectors, services
        from mass import contributions as c

        c.CONTACT_SOURCES.register(self.name, selectors.contact_day_querysets)
        c.MERGE_STEPS.register(self.name, services.attendances_after_merge)
        c.readable_disciplines.provide(selectors.readable_disciplines)
        for key, title, order, context in [
                ("consultations", _("Consultations"), 30, panels.consultations_context),
                ("referrals", _("Referrals"), 60, panels.referrals_context),
                ("screening", _("HCV/HIV screening"), 70, panels.screening_context)]:
            c.PATIENT_PANELS.register_panel(c.Panel(
                key=key, title=title, template=f"consultations/panel_{key}.html",
                context=context, order=order))
            # The printed summary: the same read rules, no buttons.
            c.SUMMARY_SECTIONS.register_panel(c.Panel(
                key=key, title=title, template=f"consultations/summary_{key}.html",
                context=context, order=order))
