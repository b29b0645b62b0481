from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_search, name="search"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/summary/", views.patient_summary, name="summary"),
    path("<int:pk>/who-read/", views.file_reads_print, name="file_reads_print"),
    path("lost/", views.lost, name="lost"),
    path("lost/settings/", views.lost_settings, name="lost_settings"),
    path("<int:pk>/outreach/", views.outreach_attempt_create, name="outreach_attempt"),
    path("<int:pk>/edit/", views.patient_update, name="update"),
    path("<int:pk>/merge/", views.patient_merge, name="merge"),
    path("<int:pk>/photo/", views.patient_photo, name="photo"),
    path("<int:pk>/photo/take/", views.patient_photo_take, name="photo_take"),
    path("<int:pk>/photo/withdraw/", views.patient_photo_withdraw, name="photo_withdraw"),
    path("<int:pk>/walk-ins/new/", views.visit_create, name="visit_create"),
    path("walk-ins/<int:pk>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("<int:pk>/episodes/open/", views.episode_open, name="episode_open"),
    path("episodes/<int:pk>/close/", views.episode_close, name="episode_close"),
]
