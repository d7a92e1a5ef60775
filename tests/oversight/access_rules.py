"""Oversight access: every page and API operation needs an oversight role (officer or head);
nobody else, including protection roles, reaches oversight data. There is no case team here, so
"inside" and "outside" use the same records."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from django.utils import timezone

from haven.accounts.roles import Module, Role
from haven.oversight import services
from haven.oversight.models import MemberKind
from tests.access.rules import Actor, Rule, module, role

SECRET_COMPLAINANT = "Ottoline Oversightsecret"
SECRET_CONTACT = "99 Confidential Row, Nowhereshire"
SECRET_DOCUMENT_TITLE = "Statement of Ottoline Oversightsecret"
# A 1x1 PNG: a real image by content, for document uploads.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

oversight: Rule = module(Module.OVERSIGHT)

WEB_NAMES = [
    "home",
    "rules",
    "complaints",
    "complaints_csv",
    "complaint_new",
    "complaint",
    "complaint_action",
    "complaint_outcome",
    "complaint_update",
    "complaint_investigation",
    "complaint_commissioner_step",
    "review_new",
    "review_extend",
    "review_determine",
    "review_response",
    "review_refuse",
    "panel_members",
    "panel_member",
    "hearings",
    "hearing",
    "tribunals",
    "tribunal",
    "forfeitures",
    "forfeiture",
    "statistics",
    "statistics_export",
    "import",
    "my_work",
    "complaint_note",
    "complaint_correspondence",
    "complaint_document_add",
    "complaint_document",
    "governance",
    "meeting",
    "action_done",
    "performance",
    "performance_csv",
    "tribunal_seat",
]
# Managers only (permissions.may_assign): caseloads and assignment.
manager: Rule = role(Role.OVERSIGHT_HEAD)
MANAGER_WEB_NAMES = ["caseloads", "complaint_assign", "review_assign"]
WEB_POLICY: dict[str, Rule] = {
    **{f"oversight:{name}": oversight for name in WEB_NAMES},
    **{f"oversight:{name}": manager for name in MANAGER_WEB_NAMES},
}

API_OPERATIONS = [
    ("GET", "/api/oversight/complaints"),
    ("POST", "/api/oversight/complaints"),
    ("POST", "/api/oversight/complaints/search"),
    ("GET", "/api/oversight/complaints/{complaint_id}"),
    ("POST", "/api/oversight/complaints/{complaint_id}/actions"),
    ("POST", "/api/oversight/complaints/{complaint_id}/outcome"),
    ("POST", "/api/oversight/complaints/{complaint_id}/updates"),
    ("POST", "/api/oversight/complaints/{complaint_id}/investigation"),
    ("POST", "/api/oversight/complaints/{complaint_id}/reviews"),
    ("GET", "/api/oversight/complaints/{complaint_id}/commissioner-steps"),
    ("POST", "/api/oversight/complaints/{complaint_id}/commissioner-steps"),
    ("POST", "/api/oversight/reviews/{review_id}/extension"),
    ("POST", "/api/oversight/reviews/{review_id}/refusal"),
    ("POST", "/api/oversight/reviews/{review_id}/determination"),
    ("POST", "/api/oversight/reviews/{review_id}/response"),
    ("GET", "/api/oversight/panel-members"),
    ("POST", "/api/oversight/panel-members"),
    ("POST", "/api/oversight/panel-members/{member_id}/interests"),
    ("POST", "/api/oversight/panel-members/{member_id}/training"),
    ("POST", "/api/oversight/panel-members/{member_id}/unavailability"),
    ("GET", "/api/oversight/hearings"),
    ("POST", "/api/oversight/hearings"),
    ("GET", "/api/oversight/hearings/{hearing_id}"),
    ("POST", "/api/oversight/hearings/{hearing_id}/panel"),
    ("POST", "/api/oversight/hearings/{hearing_id}/seats"),
    ("POST", "/api/oversight/hearings/{hearing_id}/stage"),
    ("POST", "/api/oversight/hearings/{hearing_id}/facts"),
    ("GET", "/api/oversight/tribunals"),
    ("POST", "/api/oversight/tribunals"),
    ("POST", "/api/oversight/tribunals/{tribunal_id}/determination"),
    ("GET", "/api/oversight/forfeitures"),
    ("POST", "/api/oversight/forfeitures"),
    ("POST", "/api/oversight/forfeitures/{forfeiture_id}/steps"),
    ("GET", "/api/oversight/statistics/{stat_table}"),
    ("GET", "/api/oversight/rules"),
    ("GET", "/api/oversight/my-work"),
    ("GET", "/api/oversight/complaints/{complaint_id}/notes"),
    ("POST", "/api/oversight/complaints/{complaint_id}/notes"),
    ("POST", "/api/oversight/complaints/{complaint_id}/correspondence"),
    ("GET", "/api/oversight/complaints/{complaint_id}/documents"),
    ("POST", "/api/oversight/complaints/{complaint_id}/documents"),
    ("GET", "/api/oversight/complaints/{complaint_id}/documents/{document_id}"),
    ("GET", "/api/oversight/governance/meetings"),
    ("POST", "/api/oversight/governance/meetings"),
    ("GET", "/api/oversight/governance/meetings/{meeting_id}"),
    ("POST", "/api/oversight/governance/meetings/{meeting_id}/decisions"),
    ("POST", "/api/oversight/governance/meetings/{meeting_id}/actions"),
    ("POST", "/api/oversight/governance/actions/{action_id}/done"),
    ("GET", "/api/oversight/performance"),
    ("POST", "/api/oversight/tribunals/{tribunal_id}/seats"),
]
MANAGER_API_OPERATIONS = [
    ("GET", "/api/oversight/caseloads"),
    ("POST", "/api/oversight/complaints/{complaint_id}/assignee"),
    ("POST", "/api/oversight/reviews/{review_id}/assignee"),
]
API_POLICY: dict[tuple[str, str], Rule] = {
    **dict.fromkeys(API_OPERATIONS, oversight),
    **dict.fromkeys(MANAGER_API_OPERATIONS, manager),
}


def _object(name: str) -> Any:
    return lambda world, inside: str(world["oversight"][name].pk)


PARAMS = {
    "complaint_id": _object("complaint"),
    "review_id": _object("review"),
    "member_id": _object("member"),
    "hearing_id": _object("hearing"),
    "tribunal_id": _object("tribunal"),
    "forfeiture_id": _object("forfeiture"),
    "meeting_id": _object("meeting"),
    "action_id": _object("action"),
    "document_id": _object("document"),
    "stat_table": lambda world, inside: "outcomes",
    "step": lambda world, inside: "forward",
    "export_format": lambda world, inside: "csv",
}

SAMPLE_PAYLOADS = {
    ("POST", "/api/oversight/complaints/{complaint_id}/assignee"): lambda world: {
        "assignee_id": world["oversight"]["caseworker"].pk,
        "reason": "matrix",
    },
    ("POST", "/api/oversight/reviews/{review_id}/assignee"): lambda world: {
        "assignee_id": world["oversight"]["caseworker"].pk,
        "reason": "matrix",
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/notes"): lambda world: {"text": "matrix"},
    ("POST", "/api/oversight/complaints/{complaint_id}/documents"): lambda world: {
        "title": "Matrix document",
        "filename": "matrix.png",
        "content_base64": base64.b64encode(TINY_PNG).decode(),
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/correspondence"): lambda world: {
        "text": "matrix",
        "direction": "out",
        "on": "2025-02-03",
        "party": "Matrix Party",
        "method": "letter",
    },
    ("POST", "/api/oversight/governance/meetings"): lambda world: {
        "kind": "accountability",
        "title": "Matrix board",
        "held_on": "2025-02-03",
    },
    ("POST", "/api/oversight/governance/meetings/{meeting_id}/decisions"): lambda world: {
        "summary": "Matrix decision",
        "decided_on": "2025-02-03",
    },
    ("POST", "/api/oversight/governance/meetings/{meeting_id}/actions"): lambda world: {
        "description": "Matrix action",
        "owner_id": world["oversight"]["caseworker"].pk,
        "due_on": "2025-03-03",
    },
    ("POST", "/api/oversight/governance/actions/{action_id}/done"): lambda world: {
        "completed_on": "2025-02-04",
    },
    ("POST", "/api/oversight/tribunals/{tribunal_id}/seats"): lambda world: {
        "seat": "chair",
        "member_id": str(world["oversight"]["member"].pk),
    },
    ("POST", "/api/oversight/complaints"): lambda world: {
        "received_on": "2025-01-06",
        "category": "other",
        "complainant_name": "Matrix Fictional",
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/actions"): lambda world: {
        "action": "handled"
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/outcome"): lambda world: {
        "outcome": "no_further_action",
        "notice_on": timezone.localdate().isoformat(),
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/updates"): lambda world: {
        "sent_on": "2025-02-03",
        "method": "letter",
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/investigation"): lambda world: {
        "started_on": "2025-01-07",
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/commissioner-steps"): lambda world: {
        "step": "forward",
        "on": "2025-02-03",
        "panel_reference": "PCP/Matrix",
    },
    ("POST", "/api/oversight/complaints/{complaint_id}/reviews"): lambda world: {
        "received_on": timezone.localdate().isoformat()
    },
    ("POST", "/api/oversight/reviews/{review_id}/extension"): lambda world: {
        "extension_days": 3,
        "reason": "matrix",
    },
    ("POST", "/api/oversight/reviews/{review_id}/determination"): lambda world: {
        "determined_on": timezone.localdate().isoformat(),
        "reasonable_and_proportionate": True,
    },
    ("POST", "/api/oversight/reviews/{review_id}/response"): lambda world: {
        "response": "matrix",
        "response_on": timezone.localdate().isoformat(),
    },
    ("POST", "/api/oversight/panel-members"): lambda world: {
        "name": "Matrix Member",
        "kind": "independent",
        "term_start": "2024-01-01",
        "term_end": "2028-01-01",
    },
    ("POST", "/api/oversight/panel-members/{member_id}/interests"): lambda world: {
        "subject": "Matrix Force",
        "declared_on": "2025-01-01",
    },
    ("POST", "/api/oversight/panel-members/{member_id}/training"): lambda world: {
        "completed_on": "2024-01-01",
        "expires_on": "2027-01-01",
    },
    ("POST", "/api/oversight/panel-members/{member_id}/unavailability"): lambda world: {
        "starts_on": "2025-01-01",
        "ends_on": "2025-01-02",
    },
    ("POST", "/api/oversight/hearings"): lambda world: {
        "officer_reference": "PC Matrix",
        "force": "Matrix Force",
        "referral_date": "2024-06-01",
    },
    ("POST", "/api/oversight/hearings/{hearing_id}/panel"): lambda world: {
        "method": "rota",
        "nominees": {"chief_officer_chair": "ACC Matrix"},
    },
    ("POST", "/api/oversight/hearings/{hearing_id}/seats"): lambda world: {
        "seat": "legal_adviser",
        "member_id": str(world["oversight"]["member"].pk),
        "reason": "matrix",
    },
    ("POST", "/api/oversight/hearings/{hearing_id}/stage"): lambda world: {
        "to": "notice",
        "on": "2024-07-01",
    },
    ("POST", "/api/oversight/hearings/{hearing_id}/facts"): lambda world: {
        "fact": "response",
        "on": "2024-07-02",
    },
    ("POST", "/api/oversight/tribunals"): lambda world: {
        "appellant_reference": "PC Matrix",
        "notice_received_on": "2025-01-01",
    },
    ("POST", "/api/oversight/tribunals/{tribunal_id}/determination"): lambda world: {
        "determination": "withdrawn",
        "determined_on": "2025-01-02",
    },
    ("POST", "/api/oversight/forfeitures"): lambda world: {
        "officer_reference": "PC Matrix",
        "offence": "Fictional",
        "ground": "treason",
        "conviction_on": "2024-01-01",
    },
    ("POST", "/api/oversight/forfeitures/{forfeiture_id}/steps"): lambda world: {
        "to": "psa_decision",
        "on": "2024-02-01",
    },
}


def build(world: dict[str, Any]) -> None:
    actors: list[Actor] = world["actors"]
    user = next(a.user for a in actors if a.role == Role.OVERSIGHT_OFFICER)
    complaint = services.create_complaint(
        user,
        received_on=date(2025, 1, 6),
        category="other",
        complainant_name=SECRET_COMPLAINANT,
        complainant_contact=SECRET_CONTACT,
    )
    other = services.create_complaint(
        user, received_on=date(2025, 1, 6), category="other", complainant_name="Review Fictional"
    )
    services.act_on_complaint(user, other.pk, "handled")
    today = timezone.localdate()
    services.record_outcome(user, other.pk, outcome="service_acceptable", notice_on=today)
    review = services.record_review_application(user, other.pk, received_on=today)
    member = services.add_panel_member(
        user,
        name="Matrix Adviser",
        kind=MemberKind.LEGAL,
        term_start=date(2020, 1, 1),
        term_end=date(2099, 1, 1),
    )
    hearing = services.create_hearing(
        user, officer_reference="PC Matrix", force="Matrix Force", referral_date=date(2024, 6, 1)
    )
    tribunal = services.create_tribunal(
        user, appellant_reference="PC Matrix", notice_received_on=date(2025, 1, 1)
    )
    forfeiture = services.create_forfeiture(
        user,
        officer_reference="PC Matrix",
        offence="Fictional",
        ground="treason",
        conviction_on=date(2024, 1, 1),
    )
    meeting = services.create_meeting(
        user, kind="accountability", title="Matrix board", held_on=date(2025, 1, 6)
    )
    action = services.add_action(
        user, meeting.pk, description="Matrix action", owner_id=user.pk, due_on=date(2025, 2, 6)
    )
    document = services.upload_document(
        user, complaint.pk, title=SECRET_DOCUMENT_TITLE, filename="letter.png", data=TINY_PNG
    )
    world["oversight"] = {
        "caseworker": user,
        "document": document,
        "meeting": meeting,
        "action": action,
        "complaint": complaint,
        "review": review,
        "member": member,
        "hearing": hearing,
        "tribunal": tribunal,
        "forfeiture": forfeiture,
    }
    world["secrets_inside"] += [SECRET_COMPLAINANT, SECRET_CONTACT, SECRET_DOCUMENT_TITLE]
