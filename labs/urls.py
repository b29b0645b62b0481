from django.urls import path

from labs import views

app_name = "labs"

urlpatterns = [
    path("patients/<int:pk>/results/", views.patient_results, name="patient_results"),
    path("results/new/", views.result_create, name="result_create"),
    path("results/<int:pk>/cancel/", views.result_cancel, name="result_cancel"),
    path("treatments/new/", views.treatment_create, name="treatment_create"),
    path("treatments/<int:pk>/end/", views.treatment_end, name="treatment_end"),
    path("treatments/<int:pk>/cancel/", views.treatment_cancel, name="treatment_cancel"),
    path("import/", views.lab_import, name="import"),
    path("figures/", views.care_figures_current, name="care_figures_current"),
    path("figures/<int:year>/", views.care_figures, name="care_figures"),
    path("figures/<int:year>/<slug:figure>/", views.care_figure_list,
         name="care_figure_list"),
]
