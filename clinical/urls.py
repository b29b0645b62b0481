from django.urls import path

from clinical import views

app_name = "clinical"

# Under /patients/ (mass/config/urls.py): the problem list and the measures are part of the file.
urlpatterns = [
    path("<int:pk>/clinical/", views.clinical_summary, name="summary"),
    path("<int:pk>/problems/new/", views.problem_create, name="problem_create"),
    path("problems/<int:pk>/", views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/correct/", views.problem_correct, name="problem_correct"),
    path("<int:pk>/measures/", views.measurement_list, name="measurements"),
    path("<int:pk>/measures/new/", views.measurement_create, name="measurement_create"),
    path("measures/<int:pk>/withdraw/", views.measurement_withdraw,
         name="measurement_withdraw"),
]
