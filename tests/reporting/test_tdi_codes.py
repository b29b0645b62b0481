"""The TDI code lists checked against the EUDA TDI reporting template (see reporting/tdi_codes.py
for the source): these values go into the file sent to Sciensano, so a change must be deliberate.
"""

import datetime

from reporting import exports
from reporting import tdi_codes as codes
from tests.factories import EpisodeFactory, PatientFactory, TdiRecordFactory


def test_drug_codes_follow_the_template_groups():
    values = {member.name: member.value for member in codes.Drug}
    assert len(set(values.values())) == len(values)
    # Table 9.1.1: 1.1-1.5 opioids, 2.1-2.3 cocaine, 3.1-3.5 stimulants, 4.1-4.4 hypnotics
    # and sedatives, 5.1-5.3 hallucinogens, 6 volatile inhalants.
    assert [v for v in values.values() if v < 60] == [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33,
                                                      34, 35, 41, 42, 43, 44, 51, 52, 53]
    assert values["INHALANTS"] == 60
    # 7.1 herbal cannabis or resin, 7.2 synthetic cannabinoids, 7.3 other cannabis.
    assert (values["CANNABIS"], values["SYNTHETIC_CANNABINOIDS"],
            values["OTHER_CANNABIS"]) == (71, 72, 73)
    # 9 other substances; 8 (absent from the drug tables) alcohol; 99 not known.
    assert (values["ALCOHOL"], values["OTHER_SUBSTANCES"], values["NOT_KNOWN"]) == (80, 90, 99)


def test_living_where_codes_follow_the_template():
    # Table 16.1.1: stable, unstable and/or homeless, in detention, other, not known.
    assert [value for value, _label in codes.Accommodation.choices] == [1, 2, 3, 4, 99]
    assert codes.Accommodation.DETENTION == 3 and codes.Accommodation.OTHER == 4


def test_every_coded_item_has_not_known_99():
    for enum in (codes.EverTreated, codes.OstEver, codes.ReferralSource, codes.LivingWith,
                 codes.Accommodation, codes.LabourStatus, codes.Education, codes.Drug,
                 codes.Route, codes.Frequency, codes.YesNo):
        assert enum(99).name == "NOT_KNOWN", enum


def test_tdi_file_writes_the_new_codes(db):
    episode = EpisodeFactory(patient=PatientFactory(birth_year=1980),
                             opened_on=datetime.date(2025, 3, 1))
    record = TdiRecordFactory(episode=episode, primary_drug=codes.Drug.ALCOHOL,
                              route=codes.Route.EAT_DRINK,
                              secondary_drug_1=codes.Drug.SYNTHETIC_CANNABINOIDS,
                              accommodation=codes.Accommodation.DETENTION)
    row = exports.tdi_row(episode=episode, record=record, key=b"k", centre_id="X",
                          centre_type=3)
    assert (row["primary_drug"], row["secondary_drug_1"], row["accommodation"]) == (80, 72, 3)


def test_format_description_lists_the_changed_codes():
    text = exports.tdi_format_description()
    assert "80 Alcohol" in text and "90 Other substances" in text
    assert "72 Synthetic cannabinoids" in text and "3 In detention (prison)" in text
