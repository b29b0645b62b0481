from django.urls import path

from social import views

app_name = "social"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("team/", views.team_caseload, name="team"),
    path("patients/<int:patient_id>/situation/", views.situation, name="situation"),
    path("patients/<int:patient_id>/situation/<str:dimension>/<int:pk>/correct/",
         views.situation_correct, name="situation_correct"),
    path("patients/<int:patient_id>/actions/new/", views.action_create, name="action_create"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/progress/", views.action_progress, name="action_progress"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
]
