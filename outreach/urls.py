from django.urls import path

from outreach import views_page

app_name = "outreach"

urlpatterns = [
    path("", views_page.outreach_page, name="page"),
    path("manifest.webmanifest", views_page.outreach_manifest, name="manifest"),
    path("sw.js", views_page.outreach_service_worker, name="service_worker"),
]
