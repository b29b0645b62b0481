from django.urls import path

from vaccinations import views

app_name = "vaccinations"

urlpatterns = [
    path("new/", views.course_create, name="course_create"),
    path("courses/<int:pk>/", views.dose_create, name="dose_create"),
    path("doses/<int:pk>/cancel/", views.dose_cancel, name="dose_cancel"),
    path("due/", views.due, name="due"),
]
