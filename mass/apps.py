from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MassConfig(AppConfig):
    name = "mass"
    verbose_name = _("MASS")

    def ready(self):
        from django.db.models.signals import post_migrate

        from mass import signals  # noqa: F401
        from mass.accounts import security  # noqa: F401
        from mass.database import lookups

        lookups.register()

        post_migrate.connect(signals.grant_app_privileges_after_migrate, sender=self)
        post_migrate.connect(signals.apply_roles_after_migrate, sender=self)
