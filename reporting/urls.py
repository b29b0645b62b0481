from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.index, name="index"),
    path("file-active/<int:year>/", views.file_active, name="file_active"),
    path("file-active/<int:year>/declare/", views.file_active_declare,
         name="file_active_declare"),
    path("file-active/<int:year>/explain/<slug:figure>/", views.file_active_explain,
         name="file_active_explain"),
    # How outreach brings people in (issue 16): first outreach contact to the centre.
    path("file-active/<int:year>/outreach-arrivals/", views.outreach_arrivals,
         name="outreach_arrivals"),
    path("tdi/<int:episode_pk>/", views.tdi, name="tdi"),
    path("tdi/year/<int:year>/", views.tdi_year, name="tdi_year"),
    path("tdi/year/<int:year>/export/", views.tdi_export, name="tdi_export"),
]
