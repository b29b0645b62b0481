from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self):
        from alerts.triggers import DOCTOR_FIRST
        from dispensary.models import Dispensation

        # Before pgtrigger's own ready() or after: either way the rule is in the ledger's
        # Meta.triggers, so makemigrations and the grants see it.
        DOCTOR_FIRST.register(Dispensation)
