import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from mass.models import AuditEvent
from patients.importer import ImportFailed, import_records
from patients.models import Episode, Patient, Visit
from tests.factories import EpisodeFactory, PatientFactory

PATIENTS = "file_number,alias,last_name,first_name,birth_date,sex,language\n"
EPISODES = "file_number,opened_on,kind,closed_on,closure_reason\n"
VISITS = "file_number,date,time,site\n"
CONSULTATIONS = "file_number,date,discipline,time,author,note\n"
INCOME = "file_number,date,source\n"
# import_records is the owner's work (staging tables, TRUNCATE, ANALYZE): docs/security.md.
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner,
              pytest.mark.usefixtures("english")]
# Computed when the tests are collected: two days ahead stays in the future for a run that
# crosses midnight.
TOMORROW = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()


def write(directory, **files):
    for name, text in files.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    return directory


def errors_of(directory):
    with pytest.raises(ImportFailed) as failure:
        import_records(directory)
    return [str(error) for error in failure.value.errors]


def nothing_written():
    return (not Patient.objects.exists() and not Episode.objects.exists()
            and not Visit.objects.exists())


def good_files(tmp_path):
    return write(
        tmp_path,
        patients=PATIENTS + "a1,Momo,Dupont,Jean,1978-02-03,M,fr\n"
                            "A2,Zaza,,,1980,F,\n"
                            '"A3","Le ""Grand"", dit Jo",,,,,\n',
        episodes=EPISODES + "A1,2015-01-01,new,2015-06-01,moved\n"
                            "A1,2016-01-01,resumption,,\n",
        visits=VISITS + "A1,2016-01-02,10:30,MASS Woeringen\nA2,2016-01-03,,\n"
                        "A2,2016-01-04,9:05,mass woeringen\n",
        consultations=CONSULTATIONS + 'A1,2016-01-02,medical,10:45,t_doctor,"Note <b>x</b>, y"\n'
                                      "A2,2016-01-03,social,,Ancien Collègue,\n",
        income=INCOME + "A1,2016-01-02,cpas\n",
    )


def test_import_loads_every_file(tmp_path, doctor_user):
    good_files(tmp_path)
    result = import_records(tmp_path)
    assert result.counts == {"patients.csv": 3, "episodes.csv": 2, "visits.csv": 3,
                             "consultations.csv": 2, "income.csv": 1}
    momo = Patient.objects.get(file_number="A1")  # file numbers are stored upper-case
    assert (momo.alias, momo.last_name, momo.birth_date, momo.birth_year, momo.sex,
            momo.language) == ("Momo", "Dupont", datetime.date(1978, 2, 3), 1978, "M", "fr")
    zaza = Patient.objects.get(file_number="A2")
    assert zaza.birth_date is None and zaza.birth_year == 1980 and zaza.sex == "F"
    assert Patient.objects.get(file_number="A3").alias == 'Le "Grand", dit Jo'
    assert list(momo.episodes.order_by("opened_on").values_list("kind", "closure_reason")) == [
        ("new", "moved"), ("resumption", "")]
    visit = Visit.objects.get(patient=momo)
    assert visit.time == datetime.time(10, 30) and visit.site.name == "MASS Woeringen"
    assert Visit.objects.filter(patient=zaza, site__name="MASS Woeringen").count() == 1
    from consultations.models import Consultation
    known = Consultation.objects.get(patient=momo)
    assert known.author == doctor_user and known.note == "Note <b>x</b>, y" and known.imported
    unknown = Consultation.objects.get(patient=zaza)
    assert unknown.author is None and unknown.author_name == "Ancien Collègue"
    from social.models import IncomeRecord
    assert IncomeRecord.objects.get().source == "cpas"
    event = AuditEvent.objects.get(username="import_records")
    assert event.details["counts"]["visits.csv"] == 3
    # imported files are found by the search like any other
    from patients.selectors import patient_search
    assert patient_search(q="dupond")[0] == momo


def test_import_command_reports_counts(tmp_path, capsys):
    good_files(tmp_path)
    call_command("import_records", str(tmp_path))
    assert "patients.csv: 3" in capsys.readouterr().out


def test_dry_run_validates_and_writes_nothing(tmp_path, capsys):
    good_files(tmp_path)
    call_command("import_records", str(tmp_path), "--dry-run")
    assert "Dry run: no error" in capsys.readouterr().out
    assert nothing_written()


def test_files_may_be_absent_and_refer_to_registered_patients(tmp_path):
    patient = PatientFactory(file_number="OLD7")
    write(tmp_path, visits=VISITS + "old7,2016-05-05,,\n")
    import_records(tmp_path)
    assert Visit.objects.get().patient == patient


def test_records_for_a_merged_stub_go_to_the_kept_file(tmp_path):
    kept = PatientFactory(file_number="K1")
    PatientFactory(file_number="S1", status=Patient.Status.MERGED, merged_into=kept)
    write(tmp_path, visits=VISITS + "S1,2016-05-05,,\n")
    import_records(tmp_path)
    assert Visit.objects.get().patient == kept


def test_generated_file_numbers_come_after_imported_numbers(tmp_path, reception_client):
    from django.db import connection

    # A sequence keeps its value when a test's transaction is rolled back: earlier runs on a
    # reused database may have left it anywhere. The imported number is taken above it, so
    # only the import's advance of the sequence can put the next registration after it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM patients_file_number_seq")
        imported = cursor.fetchone()[0] + 1000
    write(tmp_path, patients=PATIENTS + f"{imported},Ancien,,,,,\n")
    import_records(tmp_path)
    reception_client.post("/patients/new/", {"alias": "Nouveau", "sex": "U"})
    assert Patient.objects.get(alias="Nouveau").file_number == str(imported + 1)


def test_all_or_nothing_one_bad_line_writes_nothing(tmp_path):
    good_files(tmp_path)
    write(tmp_path, visits=VISITS + "A1,2016-01-02,10:30,\n" * 50 + "A1,2016-02-30,,\n")
    assert errors_of(tmp_path) == [
        "visits.csv, line 52, column date: not a valid date (YYYY-MM-DD)"]
    assert nothing_written()
    assert not AuditEvent.objects.filter(username="import_records").exists()


def test_command_prints_each_error_and_fails(tmp_path, capsys):
    write(tmp_path, patients=PATIENTS + "B1,,,,,,\n")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_records", str(tmp_path))
    assert "patients.csv, line 2, column alias: a value is required" in capsys.readouterr().err
    assert nothing_written()


@pytest.mark.parametrize("files,expected", [
    # header problems
    ({"patients": "file_number,alias,nickname\nB1,Bob,x\n"},
     "patients.csv, line 1, column nickname: unknown column"),
    ({"patients": "file_number,last_name\nB1,Bob\n"},
     "patients.csv, line 1, column alias: required column missing"),
    ({"patients": "file_number,alias,alias\nB1,Bob,Bob\n"},
     "patients.csv, line 1, column alias: column given twice"),
    ({"patients": ""}, "patients.csv, line 1, column -: the header row is missing"),
    ({"notes": "a,b\n"}, "notes.csv, line 0, column -: unknown file"),
    # broken CSV
    ({"patients": PATIENTS + 'B1,"Bob,,,,,\n'}, "patients.csv, line 2, column -: unreadable CSV"),
    ({"patients": PATIENTS + "B1,Bob,,,,,,,\n"}, "patients.csv, line 2, column -: unreadable CSV"),
    # required values
    ({"patients": PATIENTS + ",Bob,,,,,\n"},
     "patients.csv, line 2, column file_number: a value is required"),
    ({"patients": PATIENTS + "B1,  ,,,,,\n"},
     "patients.csv, line 2, column alias: a value is required"),
    # impossible and future dates
    ({"patients": PATIENTS + "B1,Bob,,,1990-02-29,,\n"},
     "patients.csv, line 2, column birth_date: not a valid birth date"),
    ({"patients": PATIENTS + "B1,Bob,,,31/12/1990,,\n"},
     "patients.csv, line 2, column birth_date: not a valid birth date"),
    ({"patients": PATIENTS + f"B1,Bob,,,{TOMORROW},,\n"},
     "patients.csv, line 2, column birth_date: in the future"),
    ({"patients": PATIENTS + "B1,Bob,,,2999,,\n"},
     "patients.csv, line 2, column birth_date: in the future"),
    ({"patients": PATIENTS + "B1,Bob,,,1850,,\n"},
     "patients.csv, line 2, column birth_date: before 1900"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "visits": VISITS + f"B1,{TOMORROW},,\n"},
     "visits.csv, line 2, column date: in the future"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "visits": VISITS + "B1,2016-04-31,,\n"},
     "visits.csv, line 2, column date: not a valid date"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "visits": VISITS + "B1,2016-01-01,24:00,\n"},
     "visits.csv, line 2, column time: not a valid time"),
    # unknown codes
    ({"patients": PATIENTS + "B1,Bob,,,,female,\n"},
     "patients.csv, line 2, column sex: unknown code; expected one of: F, M, X, U"),
    ({"patients": PATIENTS + "B1,Bob,,,,,de\n"},
     "patients.csv, line 2, column language: unknown code"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "episodes": EPISODES + "B1,2016-01-01,first,,\n"},
     "episodes.csv, line 2, column kind: unknown code; expected one of: new, resumption"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-01-01,new,2016-02-01,bored\n"},
     "episodes.csv, line 2, column closure_reason: unknown code"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "consultations": CONSULTATIONS + "B1,2016-01-01,astrology,,,\n"},
     "consultations.csv, line 2, column discipline: unknown code"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "income": INCOME + "B1,2016-01-01,lottery\n"},
     "income.csv, line 2, column source: unknown code"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n", "visits": VISITS + "B1,2016-01-01,,Mars\n"},
     "visits.csv, line 2, column site: no site has this name"),
    # overlong text
    ({"patients": PATIENTS + f"B1,{'x' * 101},,,,,\n"},
     "patients.csv, line 2, column alias: longer than 100 characters"),
    ({"patients": PATIENTS + f"{'9' * 21},Bob,,,,,\n"},
     "patients.csv, line 2, column file_number: longer than 20 characters"),
    # duplicate file numbers
    ({"patients": PATIENTS + "B1,Bob,,,,,\nb1,Bobby,,,,,\n"},
     "patients.csv, line 3, column file_number: this file number is already on line 2"),
    # HTML / script in text fields
    ({"patients": PATIENTS + "B1,<script>alert(1)</script>,,,,,\n"},
     "patients.csv, line 2, column alias: must not contain HTML tags"),
    ({"patients": PATIENTS + "B1,Bob,<img src=x onerror=alert(1)>,,,,\n"},
     "patients.csv, line 2, column last_name: must not contain HTML tags"),
    # references and episode rules
    ({"visits": VISITS + "NOPE,2016-01-01,,\n"},
     "visits.csv, line 2, column file_number: no patient has this file number"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-01-01,new,2016-02-01,\n"},
     "episodes.csv, line 2, column closure_reason: a closed episode needs a closure reason"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-01-01,new,,moved\n"},
     "episodes.csv, line 2, column closed_on: a closure reason needs a closing date"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-03-01,new,2016-02-01,moved\n"},
     "episodes.csv, line 2, column closed_on: the episode closes before it opens"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-01-01,new,,\nB1,2017-01-01,resumption,,\n"},
     "episodes.csv, line 3, column closed_on: this person already has an open episode (line 2)"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2016-01-01,new,2016-06-30,moved\n"
                             "B1,2016-05-01,resumption,2016-12-31,moved\n"},
     "episodes.csv, line 3, column opened_on: this episode overlaps the one on line 2"),
    ({"patients": PATIENTS + "B1,Bob,,,,,\n",
      "episodes": EPISODES + "B1,2017-01-01,resumption,,\nB1,2016-01-01,new,2017-03-01,moved\n"},
     "episodes.csv, line 2, column opened_on: this episode overlaps the one on line 3"),
])
def test_each_error_names_file_line_and_column(tmp_path, files, expected):
    write(tmp_path, **files)
    errors = errors_of(tmp_path)
    assert any(error.startswith(expected) for error in errors), errors
    assert nothing_written()


def test_importing_an_existing_file_number_is_an_error(tmp_path):
    PatientFactory(file_number="B1", alias="Déjà là")
    write(tmp_path, patients=PATIENTS + "C1,Carl,,,,,\nb1,Bob,,,,,\n")
    assert errors_of(tmp_path) == [
        "patients.csv, line 3, column file_number: a file with this file number already exists"]
    assert Patient.objects.count() == 1


def test_open_episode_in_database_and_in_file_is_an_error(tmp_path):
    patient = PatientFactory(file_number="B1")
    EpisodeFactory(patient=patient, opened_on=datetime.date(2016, 1, 1))
    write(tmp_path, episodes=EPISODES + "B1,2017-01-01,resumption,,\n")
    assert errors_of(tmp_path) == [
        "episodes.csv, line 2, column closed_on: this person already has an open episode in "
        "the database"]
    assert Episode.objects.count() == 1


def test_episode_overlapping_one_in_the_database_is_an_error(tmp_path):
    patient = PatientFactory(file_number="B1")
    EpisodeFactory(patient=patient, opened_on=datetime.date(2016, 1, 1),
                   closed_on=datetime.date(2016, 12, 31), closure_reason="moved")
    write(tmp_path, episodes=EPISODES + "B1,2016-06-01,resumption,2016-08-01,moved\n"
                                        "B1,2016-12-31,resumption,2017-03-01,moved\n")
    assert errors_of(tmp_path) == [
        "episodes.csv, line 2, column opened_on: this episode overlaps an episode of this "
        "person already in the database"]  # line 3 opens the day the first one closed: fine
    assert Episode.objects.count() == 1


def test_episodes_that_follow_each_other_are_imported(tmp_path):
    write(tmp_path, patients=PATIENTS + "B1,Bob,,,,,\n",
          episodes=EPISODES + "B1,2016-01-01,new,2016-06-30,moved\n"
                              "B1,2016-06-30,resumption,2016-12-31,moved\nB1,2018-01-01,new,,\n")
    import_records(tmp_path)
    assert Episode.objects.count() == 3


def test_not_utf8_is_an_error(tmp_path):
    (tmp_path / "patients.csv").write_bytes(
        PATIENTS.encode() + "B1,Hélène,,,,,\n".encode("latin-1"))
    errors = errors_of(tmp_path)
    assert errors[0].startswith("patients.csv, line 2, column -: unreadable CSV")


def test_byte_order_mark_and_windows_line_ends_are_accepted(tmp_path):
    (tmp_path / "patients.csv").write_bytes(
        b"\xef\xbb\xbf" + (PATIENTS + "B1,Bob,,,,,\nB2,Al,,,,,\n").replace("\n", "\r\n").encode())
    import_records(tmp_path)
    assert set(Patient.objects.values_list("alias", flat=True)) == {"Bob", "Al"}


def test_missing_directory_is_an_error(tmp_path):
    assert "not a directory" in errors_of(tmp_path / "nope")[0]


def test_errors_in_several_files_are_all_reported(tmp_path):
    write(tmp_path, patients=PATIENTS + "B1,,,,,,\n", visits=VISITS + "B1,2016-02-30,,\n")
    errors = errors_of(tmp_path)
    assert errors == ["patients.csv, line 2, column alias: a value is required",
                      "visits.csv, line 2, column date: not a valid date (YYYY-MM-DD)"]


def test_error_messages_follow_the_language(tmp_path):
    write(tmp_path, patients=PATIENTS + "B1,,,,,,\n")
    with translation.override("fr"):
        errors = errors_of(tmp_path)
    assert errors == ["patients.csv, ligne 2, colonne alias : une valeur est requise"]
    with translation.override("nl"):
        errors = errors_of(tmp_path)
    assert errors and errors[0].endswith("alias: een waarde is verplicht")


# --- files that cannot be read at all: an error naming the file, never a traceback -----------


def test_carriage_return_only_line_ends_are_an_error_naming_the_file(tmp_path, capsys):
    (tmp_path / "patients.csv").write_bytes((PATIENTS + "B1,Bob,,,,,\n").replace("\n", "\r")
                                            .encode())

    with pytest.raises(CommandError) as failure:
        call_command("import_records", str(tmp_path))

    assert str(tmp_path / "patients.csv") in str(failure.value)
    assert ("patients.csv, line 1, column -: lines end with a carriage return only"
            in capsys.readouterr().err)
    assert nothing_written()


def test_carriage_return_only_in_a_later_file_is_an_error_too(tmp_path):
    PatientFactory(file_number="B1")
    (tmp_path / "visits.csv").write_bytes(b"file_number,date\rB1,2016-01-04\r")
    assert errors_of(tmp_path) == [
        ("visits.csv, line 1, column -: lines end with a carriage return only: save the file "
         "with Windows or Unix line ends")]
    assert not Visit.objects.exists()


def test_a_folder_named_like_a_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "patients.csv").mkdir()
    with pytest.raises(CommandError, match="patients.csv"):
        call_command("import_records", str(tmp_path))
    assert nothing_written()


def test_utf16_file_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "patients.csv").write_bytes((PATIENTS + "B1,Bob,,,,,\n").encode("utf-16"))
    assert errors_of(tmp_path) == ["patients.csv, line 1, column -: not UTF-8 text"]
    assert nothing_written()
