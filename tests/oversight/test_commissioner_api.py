"""Complaints about the Commissioner through the API (ELPB Regs 2012, S.I. 2012/62): recording
one with the web form's subject choice, and this office's steps by the web page's rules.

The police and crime panel handles a complaint about the Commissioner; under its delegation
this office decides whether to record it (reg 9, reg 10(2)) and whether it goes to the IOPC
(reg 13): the head of oversight. Forwarding to the panel, recording the outcome the panel
reports, telling the complainant and closing are any oversight officer's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from ninja.responses import NinjaJSONEncoder

from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.api import api as haven_api
from haven.audit.models import Action, LedgerEntry
from haven.oversight import forms, workflow
from haven.oversight.models import (
    COMPLAINT,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ComplaintSubject,
)
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, head, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
C = ComplaintStatus
PROBLEM = "application/problem+json"
NEW = {
    "received_on": "2025-01-06",
    "category": "other",
    "complainant_name": "Ivor Fictional-Complainant",
}


def api(user: User, *, can_write: bool = True) -> Client:
    _, secret = account_services.issue_api_token(
        user, "test", modules=user.modules, can_write=can_write
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def step(client: Client, item: Complaint, body: dict[str, Any]) -> Any:
    return post(client, f"/api/oversight/complaints/{item.pk}/commissioner-steps", body)


def about_the_commissioner(user: User) -> Complaint:
    return complaint(user, against_commissioner=True)


def snapshot(item: Complaint) -> tuple[Any, ...]:
    """What a refused step must leave as it was: the state, its dates and facts, its history."""
    row = Complaint.objects.get(pk=item.pk)
    return (
        row.status,
        row.iopc_referred_on,
        row.panel_forwarded_on,
        row.panel_reference,
        row.panel_outcome,
        row.outcome_notice_on,
        row.closed_on,
        ComplaintEvent.objects.filter(complaint=item).count(),
        LedgerEntry.objects.filter(action=Action.ALTERATION, object_type=COMPLAINT).count(),
    )


def assert_problem(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    text = json.dumps(response.json())
    for word in words:
        assert word in text, text


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(json.dumps(haven_api.get_openapi_schema(), cls=NinjaJSONEncoder))


# ---------------------------------------------------------------------------------------------
# Recording a complaint: the subject the web form offers


def test_the_api_records_a_complaint_about_the_commissioner_for_the_panel():
    response = post(api(officer()), "/api/oversight/complaints", NEW | {"subject": "commissioner"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["subject"] == "commissioner" and data["against_commissioner"] is True
    assert data["against_chief_officer"] is False
    assert data["appropriate_authority"] == "police_and_crime_panel"
    assert data["review_body"] == "none" and data["deadlines"] == []
    # Whether to record it is a decision of its own (reg 9 / reg 10): logged, not recorded.
    assert data["status"] == C.LOGGED
    item = Complaint.objects.get(pk=data["id"])
    assert item.against_commissioner and item.subject == ComplaintSubject.COMMISSIONER


@pytest.mark.parametrize(
    ("body", "subject", "authority"),
    [
        ({"subject": "officer"}, "officer", "force"),
        ({"subject": "chief_officer"}, "chief_officer", "local_policing_body"),
        ({}, "officer", "force"),
        # An old client's flag still makes a complaint about the chief officer (PRA 2002 s.29).
        ({"against_chief_officer": True}, "chief_officer", "local_policing_body"),
        ({"against_chief_officer": True, "subject": "chief_officer"}, "chief_officer", None),
    ],
)
def test_each_subject_and_the_old_chief_officer_flag_set_the_authority(body, subject, authority):
    response = post(api(officer()), "/api/oversight/complaints", NEW | body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["subject"] == subject and data["against_commissioner"] is False
    assert data["against_chief_officer"] is (subject == "chief_officer")
    assert authority is None or data["appropriate_authority"] == authority


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # One person: the old flag cannot contradict the subject.
        ({"subject": "commissioner", "against_chief_officer": True}, ["subject"]),
        ({"subject": "officer", "against_chief_officer": True}, ["subject"]),
        ({"subject": "the_mayor"}, ["subject"]),
        # PCMR reg 4 is for complaints about the police: ELPB reg 13 refers a serious one.
        (
            {"subject": "commissioner", "reg4_criteria": ["serious_assault"]},
            ["reg4_criteria", "ELPB Regs 2012 reg 13"],
        ),
        ({"subject": "commissioner", "review_body": "iopc"}, ["no review body"]),
    ],
)
def test_a_contradictory_or_unknown_subject_is_a_422_and_records_nothing(body, words):
    response = post(api(officer()), "/api/oversight/complaints", NEW | body)
    assert_problem(response, 422, *words)
    assert not Complaint.objects.exists()


def test_the_subject_is_published_as_the_web_forms_three_choices(document):
    schemas = document["components"]["schemas"]
    subject = schemas["ComplaintIn"]["properties"]["subject"]
    refs = [option.get("$ref", "") for option in subject["anyOf"]]
    assert "#/components/schemas/ComplaintSubject" in refs
    radios = [value for value, _ in forms.ComplaintForm().fields["subject"].choices]
    assert schemas["ComplaintSubject"]["enum"] == radios == ComplaintSubject.values
    assert len(radios) == 3
    assert schemas["ComplaintIn"]["properties"]["against_chief_officer"]["deprecated"] is True
    summary = schemas["ComplaintSummary"]["properties"]["subject"]
    assert summary == {"$ref": "#/components/schemas/ComplaintSubject"}


def test_the_step_operation_publishes_every_step_of_the_table_and_what_each_needs(document):
    path = "/api/oversight/complaints/{complaint_id}/commissioner-steps"
    assert {"get", "post"} <= set(document["paths"][path])
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/CommissionerStepIn")
    schema = document["components"]["schemas"]["CommissionerStepIn"]
    assert set(schema["properties"]["step"]["enum"]) == set(workflow.COMMISSIONER_STEP_OF.values())
    assert set(schema["required"]) == {"step", "on"}
    assert "not_record" in schema["properties"]["grounds"]["description"]
    outcome = document["components"]["schemas"]["PanelOutcome"]["enum"]
    assert "informally_resolved" in outcome and "withdrawn" in outcome


# ---------------------------------------------------------------------------------------------
# This office's steps


def test_the_steps_through_the_api_from_logged_to_closed_with_each_date_and_fact():
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    recorded = step(api(manager), item, {"step": "record", "on": "2025-01-07"})
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["status"] == C.RECORDED
    forwarded = step(
        api(worker), item, {"step": "forward", "on": "2025-01-08", "panel_reference": "PCP/4"}
    )
    assert forwarded.status_code == 200, forwarded.content
    data = forwarded.json()
    assert data["status"] == C.PANEL_FORWARDED and data["panel_reference"] == "PCP/4"
    assert data["panel_forwarded_on"] == "2025-01-08"
    outcome = step(
        api(worker),
        item,
        {"step": "panel_outcome", "on": "2025-03-03", "panel_outcome": "informally_resolved"},
    )
    assert outcome.status_code == 200, outcome.content
    assert outcome.json()["panel_outcome"] == "informally_resolved"
    assert outcome.json()["panel_outcome_on"] == "2025-03-03"
    step(api(worker), item, {"step": "notify", "on": "2025-03-04"})
    closed = step(api(worker), item, {"step": "close", "on": "2025-03-05"}).json()
    assert closed["status"] == C.CLOSED and closed["closed_on"] == "2025-03-05"
    assert closed["outcome_notice_on"] == "2025-03-04"
    moves = list(item.events.order_by("at", "pk").values_list("to_status", flat=True))
    assert moves[-5:] == [
        C.RECORDED,
        C.PANEL_FORWARDED,
        C.PANEL_OUTCOME,
        C.OUTCOME_NOTIFIED,
        C.CLOSED,
    ]


def test_a_serious_complaint_is_referred_to_the_iopc_and_may_come_back_to_the_panel():
    manager = head()
    item = about_the_commissioner(manager)
    step(api(manager), item, {"step": "record", "on": "2025-01-07"})
    referred = step(api(manager), item, {"step": "refer", "on": "2025-01-08"}).json()
    assert referred["status"] == C.IOPC_REFERRED and referred["iopc_referred_on"] == "2025-01-08"
    back = step(
        api(manager),
        item,
        {"step": "referred_back", "on": "2025-02-03", "panel_reference": "PCP/9"},
    )
    assert back.status_code == 200 and back.json()["status"] == C.PANEL_FORWARDED


def test_not_recording_needs_grounds_then_the_complainant_is_told():
    """reg 10(2): the complainant is told the decision and "the grounds on which the decision
    was made"."""
    manager = head()
    item = about_the_commissioner(manager)
    before = snapshot(item)
    missing = step(api(manager), item, {"step": "not_record", "on": "2025-01-07"})
    assert_problem(missing, 422, "grounds")
    assert snapshot(item) == before
    decided = step(
        api(manager),
        item,
        {"step": "not_record", "on": "2025-01-07", "grounds": "Already dealt with (fictional)"},
    )
    assert decided.status_code == 200 and decided.json()["status"] == C.NOT_RECORDED
    assert item.events.order_by("at", "pk").last().note == "Already dealt with (fictional)"
    told = step(api(manager), item, {"step": "tell_not_recorded", "on": "2025-01-08"})
    assert told.status_code == 200 and told.json()["status"] == C.OUTCOME_NOTIFIED


@pytest.mark.parametrize("name", ["record", "not_record", "refer"])
def test_an_officer_cannot_take_the_heads_decisions_through_the_api(name):
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    if name == "refer":
        step(api(manager), item, {"step": "record", "on": "2025-01-07"})
    body = {"step": name, "on": "2025-01-08"}
    if name == "not_record":
        body["grounds"] = "Fictional grounds"
    before = snapshot(item)
    assert_problem(step(api(worker), item, body), 422, "Your role does not allow")
    assert snapshot(item) == before


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("close", {}),
        ("notify", {}),
        ("log", {}),  # logged already, when it was received
        ("refer", {}),  # not before it is recorded (reg 13 refers a recorded complaint)
        ("panel_outcome", {"panel_outcome": "withdrawn"}),
        ("referred_back", {"panel_reference": "PCP/1"}),
        ("tell_not_recorded", {}),
    ],
)
def test_a_step_not_open_from_the_current_state_is_a_422_and_changes_nothing(name, extra):
    manager = head()  # every role: only the state refuses
    item = about_the_commissioner(manager)
    before = snapshot(item)
    response = step(api(manager), item, {"step": name, "on": "2025-01-08", **extra})
    assert_problem(response, 422, "cannot be taken")
    assert snapshot(item) == before


def test_a_finished_complaint_takes_no_more_steps():
    manager = head()
    item = about_the_commissioner(manager)
    step(api(manager), item, {"step": "not_record", "on": "2025-01-07", "grounds": "Fictional"})
    step(api(manager), item, {"step": "tell_not_recorded", "on": "2025-01-08"})
    step(api(manager), item, {"step": "close", "on": "2025-01-09"})
    before = snapshot(item)
    assert before[0] == C.CLOSED
    for name in workflow.COMMISSIONER_STEP_OF.values():
        response = step(api(manager), item, {"step": name, "on": "2025-01-10"})
        assert response.status_code == 422, (name, response.content)
    assert snapshot(item) == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"step": "forward", "on": "2025-01-08"}, ["panel_reference"]),
        ({"step": "forward", "on": "2025-06-03", "panel_reference": "PCP/1"}, ["future"]),
        ({"step": "forward", "on": "2025-01-05", "panel_reference": "PCP/1"}, ["received"]),
        ({"step": "forward", "on": "2025-02-30", "panel_reference": "PCP/1"}, ["on"]),
        ({"step": "forward", "panel_reference": "PCP/1"}, ["on"]),
        # A fact the step does not record is refused, not dropped.
        ({"step": "forward", "on": "2025-01-08", "panel_reference": "P", "grounds": "x"}, []),
        ({"step": "forward", "on": "2025-01-08", "panel_outcome": "withdrawn"}, []),
        ({"step": "forward", "on": "2025-01-08", "panel_reference": "P" * 41}, []),
        ({"step": "adjourn", "on": "2025-01-08"}, ["step"]),
    ],
)
def test_bad_input_on_a_step_is_a_422_naming_it_and_changes_nothing(body, words):
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    step(api(manager), item, {"step": "record", "on": "2025-01-07"})
    before = snapshot(item)
    assert_problem(step(api(worker), item, body), 422, *words)
    assert snapshot(item) == before


def test_a_police_complaint_does_not_take_the_commissioners_steps():
    worker = officer()
    police = complaint(worker)
    before = snapshot(police)
    response = step(
        api(worker), police, {"step": "forward", "on": "2025-01-08", "panel_reference": "PCP/1"}
    )
    assert_problem(response, 422, "Only a complaint about the Commissioner")
    assert snapshot(police) == before
    offered = api(worker).get(f"/api/oversight/complaints/{police.pk}/commissioner-steps")
    assert offered.status_code == 200 and offered.json() == []


# ---------------------------------------------------------------------------------------------
# Who may see the complaint at all: 404, as every refusal


@pytest.mark.parametrize(
    "outsider",
    [
        lambda: UserFactory(roles=[Role.PROTECTION_OFFICER]),
        lambda: UserFactory(roles=[Role.TECHNICAL_SUPERVISOR]),
        # An oversight head not cleared for the complaint's classification.
        lambda: head(clearance=Clearance.OFFICIAL),
    ],
    ids=["protection", "operations", "not-cleared"],
)
def test_those_who_may_not_see_the_complaint_get_404_and_change_nothing(outsider):
    manager = head(clearance=Clearance.SECRET)
    item = about_the_commissioner(manager)
    Complaint.objects.filter(pk=item.pk).update(classification=Clearance.SECRET)
    before = snapshot(item)
    client = api(outsider())
    response = step(client, item, {"step": "record", "on": "2025-01-07"})
    assert_problem(response, 404)
    assert_problem(client.get(f"/api/oversight/complaints/{item.pk}/commissioner-steps"), 404)
    assert snapshot(item) == before
    # The cleared head takes the same step.
    assert step(api(manager), item, {"step": "record", "on": "2025-01-07"}).status_code == 200


def test_an_unknown_complaint_is_a_404():
    missing = "00000000-0000-4000-8000-000000000000"
    response = post(
        api(head()),
        f"/api/oversight/complaints/{missing}/commissioner-steps",
        {"step": "record", "on": "2025-01-07"},
    )
    assert_problem(response, 404)


def test_a_read_only_token_cannot_take_a_step():
    manager = head()
    item = about_the_commissioner(manager)
    before = snapshot(item)
    response = step(api(manager, can_write=False), item, {"step": "record", "on": "2025-01-07"})
    assert_problem(response, 403, "can only read")
    assert snapshot(item) == before


# ---------------------------------------------------------------------------------------------
# The steps open now, as the web page offers them


def test_the_steps_open_to_each_role_now_are_the_web_pages():
    worker, manager = officer(), head()
    item = about_the_commissioner(worker)
    url = f"/api/oversight/complaints/{item.pk}/commissioner-steps"
    # Recording is the head's decision: an officer has no step while it is only logged.
    assert api(worker).get(url).json() == []
    offered = api(manager).get(url).json()
    assert [row["step"] for row in offered] == ["record", "not_record"]
    assert "ELPB Regs 2012 reg 9" in offered[0]["citation"]
    assert offered[1]["required_fields"] == ["grounds"]
    html = (
        force_sign_in(Client(), manager).get(f"/oversight/complaints/{item.pk}/").content.decode()
    )
    for row in offered:
        assert f"/oversight/complaints/{item.pk}/commissioner/{row['step']}/" in html
    step(api(manager), item, {"step": "record", "on": "2025-01-07"})
    worker_steps = api(worker).get(url).json()
    assert [row["step"] for row in worker_steps] == ["forward"]
    assert worker_steps[0]["required_fields"] == ["panel_reference"]
    assert [row["step"] for row in api(manager).get(url).json()] == ["refer", "forward"]
