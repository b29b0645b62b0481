from django.urls import path

from patients import views

app_name = "reception"

urlpatterns = [
    path("", views.board, name="board"),
    path("search/", views.board_search, name="search"),
    path("arrivals/", views.arrival_log, name="arrival"),
    path("harm-reduction/", views.harm_reduction_log, name="harm_reduction"),
    path("harm-reduction/today/", views.harm_reduction_today, name="harm_reduction_today"),
    path("harm-reduction/<int:pk>/cancel/", views.harm_reduction_cancel,
         name="harm_reduction_cancel"),
]
