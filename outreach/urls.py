from django.urls import path

from outreach import views, views_page

app_name = "outreach"

urlpatterns = [
    # The installable page of the mobile team, its manifest and its service worker (served
    # here so that its scope is /outreach/).
    path("", views_page.outreach_page, name="page"),
    path("manifest.webmanifest", views_page.outreach_manifest, name="manifest"),
    path("sw.js", views_page.outreach_service_worker, name="service_worker"),
    # The API of the outreach page (docs/interfaces.md "Extensions in this project").
    path("api/devices/", views.api_device_register, name="api_devices"),
    path("api/round/", views.api_round, name="api_round"),
    path("api/sync/", views.api_sync, name="api_sync"),
    # Coordinators: the devices (disable a lost one) and offline registrations to merge.
    path("devices/", views.device_list, name="devices"),
    path("devices/<uuid:pk>/disable/", views.device_disable, name="device_disable"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
]
