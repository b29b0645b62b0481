from django.urls import path

from dispensary import views

app_name = "dispensary"

urlpatterns = [
    path("", views.today, name="today"),
    path("prescriptions/", views.prescriptions, name="prescriptions"),
    path("closed-days/", views.closed_days, name="closed_days"),
    path("closed-days/<int:pk>/plan/", views.closed_day_plan_record,
         name="closed_day_plan_record"),
    path("prescriptions/<int:pk>/dispense/", views.dispense, name="dispense"),
    path("prescriptions/<int:pk>/end/", views.prescription_end, name="prescription_end"),
    path("prescriptions/<int:pk>/print/", views.prescription_print,
         name="prescription_print"),
    path("prescriptions/<int:pk>/review/", views.review, name="review"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:patient_pk>/prescribe/", views.prescription_create,
         name="prescription_create"),
    path("dispensations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("downtime/", views.downtime_sheet, name="downtime_sheet"),
    path("patients/<int:patient_pk>/paper/", views.paper_record, name="paper_record"),
    path("register/", views.register, name="register"),
    path("register/<int:product_pk>/<int:year>/<int:month>/", views.register_month,
         name="register_month"),
    path("register/receipt/", views.receipt, name="receipt"),
    path("register/count/", views.stock_count, name="stock_count"),
    path("register/entries/<int:pk>/correct/", views.correction, name="correction"),
    path("products/", views.products, name="products"),
    path("products/new/", views.product_edit, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_update"),
    path("induction-rules/", views.induction_rules, name="induction_rules"),
    path("induction-rules/<int:product_pk>/", views.induction_rule_edit,
         name="induction_rule_edit"),
    path("pharmacies/new/", views.pharmacy_edit, name="pharmacy_create"),
    path("pharmacies/<int:pk>/", views.pharmacy_edit, name="pharmacy_update"),
]
