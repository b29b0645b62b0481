from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispensaryConfig(AppConfig):
    name = "dispensary"
    verbose_name = _("Dispensary")

    def ready(self):
        from dispensary import panels
        panels.register()
