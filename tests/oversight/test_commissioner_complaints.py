"""Complaints about the Commissioner (Elected Local Policing Bodies (Complaints and Misconduct)
Regulations 2012, S.I. 2012/62), and a citation for every move of every complaint table.

Written from the Regulations as made: the police and crime panel handles a complaint about a
relevant office holder; it is recorded under reg 9, or not (reg 10(2): the complainant is told
the decision and its grounds); a serious complaint is referred to the IOPC (reg 13); the panel
resolves the others informally (reg 27-28) and may refer back or disapply (reg 14(2), reg 15).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from haven.accounts import services as account_services
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.oversight import config, selectors, services, workflow
from haven.oversight.models import (
    COMPLAINT,
    AppropriateAuthority,
    Complaint,
    ComplaintStatus,
    ComplaintSubject,
    ReviewBody,
)
from haven.workflow import TransitionError
from tests.factories import force_sign_in
from tests.oversight.helpers import complaint, head, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
C = ComplaintStatus


def web(user) -> Client:  # type: ignore[no-untyped-def]
    return force_sign_in(Client(), user)


def about_the_commissioner(user) -> Complaint:  # type: ignore[no-untyped-def]
    return complaint(user, against_commissioner=True)


def status_of(item: Complaint) -> str:
    return Complaint.objects.get(pk=item.pk).status


# ---------------------------------------------------------------------------------------------
# Every move of every complaint table names its source


@pytest.mark.parametrize("subject", ComplaintSubject.values)
def test_every_move_of_every_complaint_table_cites_its_source_or_says_local_practice(subject):
    table = workflow.complaint_transitions(subject)
    for (source, target), rule in table.items():
        assert rule.citation.strip(), f"{subject}: {source} -> {target} has no citation"
        provision = any(word in rule.citation for word in ("reg ", "para ", "s.", "Guidance"))
        assert provision or rule.citation == config.LOCAL_PRACTICE, (source, target)


def test_ordinary_complaint_moves_cite_the_schedule_and_the_2020_regulations():
    table = workflow.COMPLAINT_TRANSITIONS
    refer = table[(C.RECORDED, C.IOPC_REFERRED)].citation
    assert "Sch 3 para 4(1)(a)" in refer and "reg 4" in refer and "UNCONFIRMED" not in refer
    assert "reg 33(2)(a)" in table[(C.HANDLED, C.OUTCOME_NOTIFIED)].citation
    assert "reg 29(2)" in table[(C.OUTCOME_NOTIFIED, C.REVIEW_WINDOW)].citation
    # A paragraph number that was not retrieved is marked where it is shown.
    assert table[(C.RECORDED, C.HANDLED)].citation.endswith("[UNCONFIRMED]")
    assert config.COMPLAINT_STEPS["handle"].confirmed is False


def test_commissioner_moves_cite_the_2012_regulations():
    table = workflow.COMMISSIONER_COMPLAINT_TRANSITIONS
    assert "ELPB Regs 2012 reg 9" in table[(C.LOGGED, C.RECORDED)].citation
    assert "reg 10(2)" in table[(C.LOGGED, C.NOT_RECORDED)].citation
    assert "reg 10(2)(a)-(b)" in table[(C.NOT_RECORDED, C.OUTCOME_NOTIFIED)].citation
    assert "reg 13" in table[(C.RECORDED, C.IOPC_REFERRED)].citation
    assert "reg 27" in table[(C.RECORDED, C.PANEL_FORWARDED)].citation
    assert "reg 14(2)" in table[(C.IOPC_REFERRED, C.PANEL_FORWARDED)].citation
    assert "reg 28" in table[(C.PANEL_FORWARDED, C.PANEL_OUTCOME)].citation
    # Delegation to this office (reg 7) was not retrieved: the recording step says so.
    assert table[(C.LOGGED, C.RECORDED)].citation.endswith("[UNCONFIRMED]")
    assert config.ELPB_2012.startswith("Elected Local Policing Bodies")


# ---------------------------------------------------------------------------------------------
# The Commissioner's complaints: the panel's, recorded and forwarded by this office


def test_a_complaint_about_the_commissioner_is_the_panels_with_no_review_and_no_police_clocks():
    item = about_the_commissioner(officer())
    assert item.appropriate_authority == AppropriateAuthority.POLICE_AND_CRIME_PANEL
    assert item.review_body == ReviewBody.NONE and item.review_body_limb == ""
    # Recording is a decision of its own (reg 9 or reg 10), not made by logging it.
    assert item.status == C.LOGGED
    assert selectors.complaint_deadlines(item) == []
    # The API reads it like any complaint (its steps: test_commissioner_api.py).
    token = account_services.issue_api_token(
        item.created_by, "test", modules=item.created_by.modules, can_write=False
    )[1]
    read = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/oversight/complaints/{item.pk}")
    assert read.status_code == 200 and read.json()["status"] == C.LOGGED


def test_a_commissioner_complaint_cannot_take_chief_officer_or_ordinary_moves():
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    for action in ("record", "outside", "handled", "close"):
        with pytest.raises(ValidationError, match="its own steps"):
            services.act_on_complaint(manager, item.pk, action)
    with pytest.raises(ValidationError, match="its own steps"):
        services.record_outcome(
            manager, item.pk, outcome="service_acceptable", notice_on=date(2025, 6, 2)
        )
    with pytest.raises(ValidationError, match="its own steps"):
        services.record_investigation(manager, item.pk, started_on=date(2025, 2, 1))
    assert status_of(item) == C.LOGGED
    commissioner = workflow.COMMISSIONER_COMPLAINT_TRANSITIONS
    for move in (
        (C.RECORDED, C.HANDLED),
        (C.LOGGED, C.OUTSIDE_SCH3),
        (C.OUTCOME_NOTIFIED, C.REVIEW_WINDOW),
    ):
        assert move in workflow.CHIEF_COMPLAINT_TRANSITIONS and not commissioner.allows(*move)
    # Nor does a police complaint take the Commissioner's steps.
    police = complaint(worker)
    with pytest.raises(ValidationError, match="Only a complaint about the Commissioner"):
        services.take_commissioner_step(
            manager, police.pk, "forward", on=date(2025, 2, 1), panel_reference="PCP/1"
        )


def test_the_office_records_and_refers_the_panel_decides_the_outcome_the_office_records_it():
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    # Recording and referral are decided under the panel's delegation: the head of oversight.
    with pytest.raises(TransitionError, match="Your role does not allow"):
        services.take_commissioner_step(worker, item.pk, "record", on=date(2025, 1, 7))
    services.take_commissioner_step(manager, item.pk, "record", on=date(2025, 1, 7))
    with pytest.raises(TransitionError, match="Your role does not allow"):
        services.take_commissioner_step(worker, item.pk, "refer", on=date(2025, 1, 8))
    # Forwarding to the panel needs the panel's reference; nothing changes without it.
    with pytest.raises(TransitionError) as refused:
        services.take_commissioner_step(worker, item.pk, "forward", on=date(2025, 1, 8))
    assert refused.value.missing == ("panel_reference",)
    assert status_of(item) == C.RECORDED
    services.take_commissioner_step(
        worker, item.pk, "forward", on=date(2025, 1, 8), panel_reference="PCP/2025/004"
    )
    # The outcome is the panel's: any officer records what it reported, not before it had it.
    with pytest.raises(ValidationError, match="before the complaint went to the panel"):
        services.take_commissioner_step(
            worker, item.pk, "panel_outcome", on=date(2025, 1, 7), panel_outcome="withdrawn"
        )
    done = services.take_commissioner_step(
        worker,
        item.pk,
        "panel_outcome",
        on=date(2025, 3, 3),
        panel_outcome="informally_resolved",
    )
    assert done.status == C.PANEL_OUTCOME and done.panel_outcome_on == date(2025, 3, 3)
    entry = LedgerEntry.objects.filter(object_type=COMPLAINT, action=Action.ALTERATION).last()
    assert entry is not None
    details = {**entry.details, **ledger.open_sealed(entry).get("details", {})}
    assert details["step"] == "panel_outcome" and details["decided_by"] == "police_and_crime_panel"
    services.take_commissioner_step(worker, item.pk, "notify", on=date(2025, 3, 4))
    closed = services.take_commissioner_step(worker, item.pk, "close", on=date(2025, 3, 5))
    assert closed.status == C.CLOSED and closed.outcome_notice_on == date(2025, 3, 4)
    assert closed.panel_reference == "PCP/2025/004"


def test_a_serious_complaint_goes_to_the_iopc_and_may_come_back_to_the_panel():
    """reg 13: serious complaints are referred; reg 14(2): the IOPC may refer one back."""
    manager = head()
    item = about_the_commissioner(manager)
    services.take_commissioner_step(manager, item.pk, "record", on=date(2025, 1, 7))
    referred = services.take_commissioner_step(manager, item.pk, "refer", on=date(2025, 1, 8))
    assert referred.status == C.IOPC_REFERRED and referred.iopc_referred_on == date(2025, 1, 8)
    back = services.take_commissioner_step(
        manager, item.pk, "referred_back", on=date(2025, 2, 3), panel_reference="PCP/2025/009"
    )
    assert back.status == C.PANEL_FORWARDED


def test_not_recording_needs_grounds_and_the_complainant_is_told_them():
    """reg 10(2): a decision not to record is notified with "the grounds on which the decision
    was made"."""
    manager = head()
    item = about_the_commissioner(manager)
    with pytest.raises(TransitionError) as refused:
        services.take_commissioner_step(manager, item.pk, "not_record", on=date(2025, 1, 7))
    assert "grounds" in refused.value.message_dict
    services.take_commissioner_step(
        manager,
        item.pk,
        "not_record",
        on=date(2025, 1, 7),
        grounds="Already dealt with by criminal proceedings (fictional)",
    )
    assert item.events.last().note.startswith("Already dealt with")
    told = services.take_commissioner_step(
        manager, item.pk, "tell_not_recorded", on=date(2025, 1, 8)
    )
    assert told.status == C.OUTCOME_NOTIFIED


def test_the_complaint_form_offers_the_subject_as_radios_and_refuses_police_criteria():
    worker = officer()
    page = web(worker).get("/oversight/complaints/new/").content.decode()
    assert 'type="radio"' in page and 'name="subject"' in page and 'value="commissioner"' in page
    form = {
        "received_on": "2025-01-06",
        "category": "other",
        "complainant_name": "Ivor Fictional-Complainant",
        "schedule3": "yes",
        "subject": "commissioner",
    }
    refused = web(worker).post(
        "/oversight/complaints/new/", form | {"reg4_criteria": ["serious_assault"]}
    )
    assert refused.status_code == 200 and "ELPB Regs 2012 reg 13" in refused.content.decode()
    assert not Complaint.objects.exists()
    made = web(worker).post("/oversight/complaints/new/", form)
    assert made.status_code == 302
    item = Complaint.objects.get()
    assert item.against_commissioner and not item.against_chief_officer
    assert item.subject == ComplaintSubject.COMMISSIONER


def test_the_complaint_page_offers_only_the_steps_the_user_may_take():
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    url = f"/oversight/complaints/{item.pk}/"
    seen = web(worker).get(url).content.decode()
    assert "ELPB Regs 2012 reg 9" in seen and 'data-testid="commissioner-steps"' in seen
    assert "Record the complaint (under the panel" not in seen.split("govuk-button-group")[1]
    assert "Record under Schedule 3" not in seen and "Mark as handled" not in seen
    # A step the user may not take is refused, not shown as a form.
    response = web(worker).get(url + "commissioner/record/")
    assert response.status_code == 302 and status_of(item) == C.LOGGED
    decided = web(manager).get(url).content.decode()
    assert f"{url}commissioner/record/" in decided and f"{url}commissioner/not_record/" in decided
    web(manager).post(url + "commissioner/record/", {"on": "2025-01-07"})
    assert status_of(item) == C.RECORDED
    # Any officer forwards it; a missing panel reference is a field error, nothing changed.
    page = web(worker).get(url).content.decode()
    assert f"{url}commissioner/forward/" in page and f"{url}commissioner/refer/" not in page
    missing = web(worker).post(url + "commissioner/forward/", {"on": "2025-01-08"})
    assert missing.status_code == 200 and "Enter the panel" in missing.content.decode()
    assert status_of(item) == C.RECORDED
    web(worker).post(
        url + "commissioner/forward/", {"on": "2025-01-08", "panel_reference": "PCP/2025/004"}
    )
    forwarded = web(worker).get(url).content.decode()
    assert status_of(item) == C.PANEL_FORWARDED and "PCP/2025/004" in forwarded
    assert "The police and crime panel decides" in forwarded
