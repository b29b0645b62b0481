"""Corrections and the yearly figures (issue 14): a walk-in, a group attendance or a
harm-reduction entry cancelled leaves the figures and their explanation lists; when its year
was declared, the reconciliation with today's records lists the correction (what, when it
was cancelled, by whom, why)."""

import datetime

from consultations.models import GroupAttendance
from patients.models import HarmReductionContact
from patients.services import harm_reduction_log
from reporting import selectors
from reporting.models import DeclaredYear
from tests.conftest import EN
from tests.factories import PatientFactory, VisitFactory, woeringen

D = datetime.date
PAGE = "/reporting/file-active/2025/"


# Complexity 18, kept: one scenario asserted step by step (each `and` counts).
def test_a_correction_of_a_declared_year_shows_in_its_reconciliation(coordinator_client,
                                                                     coordinator_user,
                                                                     history):
    # A person whose only contact of 2025 is a walk-in logged on their file by mistake.
    wrong = PatientFactory(alias="Kéké 2", file_number="F-W")
    visit = VisitFactory(patient=wrong, date=D(2025, 5, 5), site=woeringen())
    coordinator_client.post(PAGE + "declare/", {"confirm": "on"}, **EN)
    declared = DeclaredYear.objects.get().figures
    attendance = GroupAttendance.objects.get(session__date=D(2025, 1, 1))
    hand_out = HarmReductionContact.objects.filter(date__year=2025).first()

    for url, reason in ((f"/patients/walk-ins/{visit.pk}/cancel/", "Logged on the wrong Kéké"),
                        (f"/consultations/groups/attendances/{attendance.pk}/cancel/",
                         "Not there that day"),
                        (f"/reception/harm-reduction/{hand_out.pk}/cancel/", "Typed twice")):
        assert coordinator_client.post(url, {"reason": reason}).status_code == 302

    response = coordinator_client.get(PAGE, **EN)
    page = response.content.decode()
    now = selectors.file_active_figures(2025).figures
    assert now["annual_active_patients"] == declared["annual_active_patients"] - 1
    assert now["group_attendances"] == declared["group_attendances"] - 1
    assert now["harm_reduction_items_handed_out"] == \
        declared["harm_reduction_items_handed_out"] - hand_out.handed_out
    reconciliation = response.context["reconciliation"]
    moved = {row["key"]: row for row in reconciliation.figures}
    assert moved["annual_active_patients"]["now"] == now["annual_active_patients"]
    records = {(record["code"], record["patient_id"]): record
               for record in reconciliation.records}
    walk_in = records[("visit_cancelled", wrong.pk)]
    assert walk_in["date"] == D(2025, 5, 5)
    assert walk_in["detail"] == f"Logged on the wrong Kéké — {coordinator_user}"
    assert ("group_attendance_cancelled", attendance.patient_id) in records
    assert ("harm_reduction_cancelled", hand_out.patient_id) in records
    # The person who left the active patients is explained by the correction.
    evidence = {(row["figure_key"], row["patient_id"]): [r["code"] for r in row["evidence"]]
                for row in reconciliation.movements}
    assert "visit_cancelled" in evidence[("annual_active_patients", wrong.pk)]
    later = page.split("data-later-records")[1].split("</table>")[0]
    assert f"Walk-in cancelled (Logged on the wrong Kéké — {coordinator_user})" in later
    assert "Group attendance cancelled (Not there that day" in later


def test_the_explanation_lists_leave_cancelled_entries_out(coordinator_client,
                                                           coordinator_user, history):
    attendance = GroupAttendance.objects.get(session__date=D(2025, 1, 1))
    [extra] = harm_reduction_log(site=woeringen(), date=D(2025, 3, 1),
                                 quantities={"naloxone": (1, 0)}, actor=coordinator_user)

    def listed(figure) -> int:
        response = coordinator_client.get(PAGE + f"explain/{figure}/")
        return response.context["page"].paginator.count

    before = {figure: listed(figure)
              for figure in ("group_attendances", "harm_reduction_contacts")}
    coordinator_client.post(f"/consultations/groups/attendances/{attendance.pk}/cancel/",
                            {"reason": "Wrong person"})
    coordinator_client.post(f"/reception/harm-reduction/{extra.pk}/cancel/",
                            {"reason": "Never handed"})

    assert {figure: listed(figure) for figure in before} == {
        figure: count - 1 for figure, count in before.items()}
