import io

from django.utils import timezone

from patients.models import Patient
from social import demo
from social.models import HousingRecord, IncomeRecord, SocialAction
from social.selectors import income_distribution
from tests.factories import PartnerFactory, PatientFactory


def test_seed_follows_the_income_mix_and_is_idempotent(social_worker_user):
    PatientFactory.create_batch(200)
    PartnerFactory(name="CPAS de Bruxelles", kind="cpas")
    out = io.StringIO()

    demo.seed(years=2, scale=1, stdout=out)

    assert "social:" in out.getvalue()
    result = income_distribution(patient_ids=Patient.objects.all(),
                                 as_of=timezone.localdate())
    assert result == {"pension": 1.0, "salary": 11.0, "sickness_benefit": 23.0,
                      "unemployment": 15.0, "cpas": 22.0, "none": 25.0, "other": 3.0,
                      "unknown": 0.0}
    assert SocialAction.objects.filter(social_worker=social_worker_user).exists()
    assert SocialAction.objects.filter(status="done").exclude(outcome="").exists()
    assert HousingRecord.objects.filter(corrects__isnull=False).exists()
    today = timezone.localdate()
    assert not IncomeRecord.objects.filter(date__gt=today).exists()
    assert not SocialAction.objects.filter(closed_on__gt=today).exists()

    counts = (IncomeRecord.objects.count(), HousingRecord.objects.count(),
              SocialAction.objects.count())
    demo.seed(years=2, scale=1, stdout=io.StringIO())
    assert (IncomeRecord.objects.count(), HousingRecord.objects.count(),
            SocialAction.objects.count()) == counts


def test_seed_without_patients_does_nothing(db):
    demo.seed(years=1, scale=1, stdout=io.StringIO())
    assert not IncomeRecord.objects.exists()
