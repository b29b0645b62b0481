from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from mass import views
from mass.accounts import security_views
from mass.accounts.forms_auth import LoginForm
from mass.accounts.security import second_factor_exempt
from mass.sites import views as site_views

# A database outage answers 503 with Retry-After rather than an opaque 500.
handler500 = "mass.accounts.security_views.server_error"
handler400 = "mass.accounts.security_views.bad_request"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/",
         login_not_required(auth_views.LoginView.as_view(
             template_name="registration/login.html", authentication_form=LoginForm,
             redirect_authenticated_user=True)),
         name="login"),
    path("accounts/logout/", second_factor_exempt(security_views.LogoutView.as_view()),
         name="logout"),
    path("accounts/two-factor/", security_views.two_factor, name="two_factor"),
    path("accounts/two-factor/verify/", security_views.two_factor_verify,
         name="two_factor_verify"),
    path("accounts/two-factor/setup/", security_views.two_factor_setup,
         name="two_factor_setup"),
    path("accounts/two-factor/recovery-codes/", security_views.two_factor_recovery_codes,
         name="two_factor_recovery_codes"),
    path("accounts/password/", security_views.password_change, name="password_change"),
    path("language/", views.language_set, name="language_set"),
    path("", views.home, name="home"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/security/", security_views.staff_security, name="staff_security"),
    path("staff/security/unlock/", security_views.staff_lockout_reset,
         name="staff_lockout_reset"),
    path("staff/<int:pk>/two-factor/reset/", security_views.staff_two_factor_reset,
         name="staff_two_factor_reset"),
    path("staff/<int:pk>/", views.staff_update, name="staff_update"),
    path("staff/grants/<int:pk>/approve/", views.role_grant_approve, name="role_grant_approve"),
    path("staff/grants/<int:pk>/refuse/", views.role_grant_refuse, name="role_grant_refuse"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path("audit/", views.audit_list, name="audit_list"),
    path("sites/", site_views.site_list, name="site_list"),
    path("sites/new/", site_views.site_edit, name="site_create"),
    path("sites/<int:pk>/", site_views.site_edit, name="site_update"),
    path("sites/<int:pk>/hours/", site_views.site_hours, name="site_hours"),
    path("sites/<int:pk>/closures/", site_views.site_closures, name="site_closures"),
    path("sites/closures/<int:pk>/withdraw/", site_views.site_closure_delete,
         name="site_closure_delete"),
    path("reception/", include("patients.reception_urls")),
    path("patients/", include("patients.urls")),
    path("patients/", include("alerts.urls")),
    path("patients/", include("clinical.urls")),
    path("consultations/", include("consultations.urls")),
    path("dispensary/", include("dispensary.urls")),
    path("social/", include("social.urls")),
    path("reporting/", include("reporting.urls")),
    path("vaccinations/", include("vaccinations.urls")),
    path("labs/", include("labs.urls")),
    path("outreach/", include("outreach.urls")),
]
