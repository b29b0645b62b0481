from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from mass import views
from mass.forms_auth import LoginForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/",
         login_not_required(auth_views.LoginView.as_view(
             template_name="registration/login.html", authentication_form=LoginForm,
             redirect_authenticated_user=True)),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_set, name="language_set"),
    path("", views.home, name="home"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_update, name="staff_update"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path("audit/", views.audit_list, name="audit_list"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_edit, name="site_create"),
    path("sites/<int:pk>/", views.site_edit, name="site_update"),
    path("reception/", include("patients.reception_urls")),
    path("patients/", include("patients.urls")),
    path("consultations/", include("consultations.urls")),
    path("dispensary/", include("dispensary.urls")),
    path("social/", include("social.urls")),
    path("reporting/", include("reporting.urls")),
]
