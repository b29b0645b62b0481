from django.urls import path

from consultations import views

app_name = "consultations"

urlpatterns = [
    path("", views.consultation_list, name="list"),
    # Quick entry: ?patient=<id> (patient file, reception board).
    path("new/", views.consultation_create, name="create"),
    path("<int:pk>/", views.consultation_detail, name="detail"),
    path("<int:pk>/edit/", views.consultation_update, name="update"),
    path("<int:pk>/sign/", views.consultation_sign, name="sign"),
    path("<int:pk>/amend/", views.consultation_amend, name="amend"),
    path("timeline/<int:patient_id>/", views.timeline, name="timeline"),
    path("groups/", views.group_list, name="groups"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/attendances/<int:pk>/cancel/", views.attendance_cancel,
         name="attendance_cancel"),
    path("partners/", views.partner_list, name="partners"),
    path("partners/new/", views.partner_edit, name="partner_create"),
    path("partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("partners/<int:pk>/edit/", views.partner_edit, name="partner_update"),
    path("referrals/new/", views.referral_create, name="referral_create"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral_outcome"),
    path("referrals/<int:pk>/letter/", views.referral_letter, name="referral_letter"),
    path("screening/new/", views.screening_create, name="screening_create"),
    path("screening/<int:pk>/result/", views.screening_result, name="screening_result"),
    path("screening/<int:pk>/cancel/", views.screening_cancel, name="screening_cancel"),
]
