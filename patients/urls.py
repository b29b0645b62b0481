from django.urls import path

app_name = "patients"

urlpatterns: list = [
    # Reception and patient views arrive with the reception issue.
]
