app_name = "dispensary"

urlpatterns: list = []
