"""The one transition table type (haven.workflow) every workflow is declared with."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from haven.workflow import Transition, TransitionError, TransitionTable

LABELS = {"draft": "Draft", "sent": "Sent", "filed": "Filed", "void": "Void"}


def make_table(**options: object) -> TransitionTable:
    return TransitionTable(
        "letter",
        (
            Transition("draft", "sent", frozenset({"clerk", "manager"}), "Letters Act s.1"),
            Transition("draft", "void"),
            Transition(
                "sent", "filed", frozenset({"manager"}), "Letters Act s.2", ("file_ref", "filed_on")
            ),
        ),
        labels=LABELS,
        **options,  # type: ignore[arg-type]
    )


def test_lookups_follow_the_declared_order():
    table = make_table()
    assert table.targets_from("draft") == ["sent", "void"]
    assert table.targets_from("filed") == []
    assert table.choices_from("draft") == [("sent", "Sent"), ("void", "Void")]
    assert table.rule("draft", "sent") == table[("draft", "sent")]
    assert table.rule("draft", "sent").citation == "Letters Act s.1"  # type: ignore[union-attr]
    assert table.rule("sent", "draft") is None and not table.allows("sent", "draft")
    assert ("draft", "void") in table and len(table) == 3
    assert table.states == {"draft", "sent", "filed", "void"}


def test_roles_narrow_the_targets_and_empty_roles_leave_it_to_the_service():
    table = make_table()
    assert table.targets_for({"clerk"}, "draft") == ["sent", "void"]
    assert table.targets_for(set(), "draft") == ["void"]
    assert table.targets_for({"clerk"}, "sent") == []
    assert table.targets_for({"manager", "clerk"}, "sent") == ["filed"]


def test_an_unknown_transition_is_refused_with_a_validation_error():
    table = make_table()
    with pytest.raises(TransitionError) as refused:
        table.check("sent", "draft")
    assert isinstance(refused.value, ValidationError)
    assert refused.value.messages == ["A letter cannot move from 'Sent' to 'Draft'"]
    assert refused.value.code == "illegal_transition"
    assert (refused.value.source, refused.value.target, refused.value.reason) == (
        "sent",
        "draft",
        "unknown",
    )


def test_a_refusal_can_be_worded_by_the_workflow_and_reported_against_a_field():
    table = make_table(
        field="status",
        refusal=lambda t, s, g: f"{t.label(s)} letters go to {', '.join(t.targets_from(s))}",
    )
    with pytest.raises(TransitionError) as refused:
        table.check("draft", "filed")
    assert refused.value.message_dict == {"status": ["Draft letters go to sent, void"]}


def test_a_role_outside_the_transition_is_refused():
    table = make_table()
    with pytest.raises(TransitionError) as refused:
        table.check("sent", "filed", roles={"clerk"})
    assert refused.value.reason == "role" and refused.value.code == "role_refused"
    assert "move from 'Sent' to 'Filed'" in refused.value.messages[0]
    assert table.check("sent", "filed", roles={"manager"}).target == "filed"
    assert table.check("draft", "void", roles=set()).target == "void"  # no roles: any caller


def test_required_fields_are_reported_each_against_its_field():
    table = make_table(field_messages={"file_ref": "Give the file reference"})
    with pytest.raises(TransitionError) as refused:
        table.check("sent", "filed", data={"file_ref": "  ", "filed_on": None})
    assert refused.value.reason == "fields"
    assert refused.value.missing == ("file_ref", "filed_on")
    assert refused.value.message_dict == {
        "file_ref": ["Give the file reference"],
        "filed_on": ["Enter the filed on"],
    }
    rule = table.check("sent", "filed", data={"file_ref": "F1", "filed_on": "2026-01-02"})
    assert rule.requires("file_ref") and not rule.requires("reason")
    assert table.missing(rule, {"file_ref": "F1"}) == {"filed_on": "Enter the filed on"}


def test_a_transition_declared_twice_is_a_configuration_error():
    with pytest.raises(ValueError, match="declared twice"):
        TransitionTable("letter", (Transition("a", "b"), Transition("a", "b", citation="x")))
