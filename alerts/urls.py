from django.urls import path

from alerts import views

app_name = "alerts"

# Under /patients/ (mass/config/urls.py): the alerts are a part of the patient file.
urlpatterns = [
    path("<int:pk>/alerts/", views.alert_list, name="list"),
    path("<int:pk>/alerts/new/", views.alert_create, name="create"),
    path("alerts/<int:pk>/end/", views.alert_end, name="end"),
]
