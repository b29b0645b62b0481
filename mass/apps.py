from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MassConfig(AppConfig):
    name = "mass"
    verbose_name = _("MASS")

    def ready(self):
        from mass import security, signals  # noqa: F401
