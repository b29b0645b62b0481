"""Reference data only: clinical records are not edited in the admin."""

from django.contrib import admin

from consultations.models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "address", "contact_person"]
