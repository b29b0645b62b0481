from django.urls import path

app_name = "reception"

urlpatterns: list = [
    # The walk-in board arrives with the reception issue.
]
