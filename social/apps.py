from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = _("Social file")

    def ready(self):
        # What this app contributes to the others (mass.contributions).
        from mass import contributions as c
        from social import panels, selectors

        c.TIMELINE_KINDS.register(self.name, selectors.social_actions_timeline_kind)
        c.PATIENT_PANELS.register_panel(c.Panel(
            key="social", title=_("Social file"), template="social/_panel.html",
            context=panels.panel_context, order=60))
        c.SUMMARY_SECTIONS.register_panel(c.Panel(
            key="social", title=_("Social situation"), template="social/summary.html",
            context=panels.summary_context, order=60))
