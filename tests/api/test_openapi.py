"""The OpenAPI document a client generator reads: one shape per component name, choice fields
publish their allowed values, and a value outside the set is a 422 problem, not a 500."""

from __future__ import annotations

import json
import types
import typing
from collections import defaultdict
from collections.abc import Iterator
from enum import Enum
from typing import Any

import pytest
from ninja.openapi.schema import REF_TEMPLATE, NinjaGenerateJsonSchema
from ninja.params.models import ParamModel
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.api import api
from tests.factories import UserFactory

BODY_SOURCES = {"body", "form", "file"}


def operations() -> Iterator[tuple[str, Any]]:
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                yield f"{prefix}{path}".replace("//", "/"), operation


def operation_models(operation: Any) -> Iterator[tuple[type[BaseModel], str]]:
    """Each model an operation publishes, with the pydantic schema mode ninja uses for it."""
    for model in operation.models:
        yield model, "validation"
    for model in operation.response_models.values():
        if isinstance(model, type) and issubclass(model, BaseModel):
            yield model, "serialization"


def named_types(annotation: Any, seen: set[Any]) -> Iterator[type]:
    """Every model and enum class reachable from a field annotation (they become components)."""
    if annotation in seen:
        return
    seen.add(annotation)
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for argument in typing.get_args(annotation):
            yield from named_types(argument, seen)
        return
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        yield annotation
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not issubclass(annotation, ParamModel) and "Ninja" not in annotation.__name__:
            yield annotation
        for field in annotation.model_fields.values():
            yield from named_types(field.annotation, seen)


def component_classes() -> dict[str, set[type]]:
    classes: dict[str, set[type]] = defaultdict(set)
    for _, operation in operations():
        for model, _mode in operation_models(operation):
            for found in named_types(model, set()):
                classes[found.__name__].add(found)
    return classes


def component_shapes() -> dict[str, set[str]]:
    shapes: dict[str, set[str]] = defaultdict(set)
    for _, operation in operations():
        for model, mode in operation_models(operation):
            schema = model.model_json_schema(
                ref_template=REF_TEMPLATE,
                schema_generator=NinjaGenerateJsonSchema,
                mode=mode,  # type: ignore[arg-type]
            )
            for name, shape in schema.get("$defs", {}).items():
                shapes[name].add(json.dumps(shape, sort_keys=True))
    return shapes


def test_every_component_name_is_one_schema_class():
    clashes = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in found)
        for name, found in component_classes().items()
        if len(found) > 1
    }
    assert not clashes, f"component names shared by different classes: {clashes}"


def test_every_component_name_has_one_shape():
    clashes = {name: len(found) for name, found in component_shapes().items() if len(found) > 1}
    assert not clashes, f"component names with more than one shape: {clashes}"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def body_ref(document: dict[str, Any], path: str, method: str) -> str:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return str(body["schema"]["$ref"]).rsplit("/", 1)[-1]


def response_ref(document: dict[str, Any], path: str, method: str, status: str) -> str:
    content = document["paths"][path][method]["responses"][status]["content"]
    schema = content["application/json"]["schema"]
    return str(schema.get("items", schema)["$ref"]).rsplit("/", 1)[-1]


def test_case_decisions_are_documented_with_the_arrangement_decision_schema(document):
    path = "/api/cases/{case_id}/decisions"
    request_schema = body_ref(document, path, "post")
    assert request_schema == "ArrangementDecisionIn"
    assert response_ref(document, path, "post", "201") == "ArrangementDecisionOut"
    assert response_ref(document, path, "get", "200") == "ArrangementDecisionOut"
    fields = document["components"]["schemas"][request_schema]["properties"]
    assert {"to_status", "factor_risk", "receiving_provider"} <= set(fields)

    log = "/api/risk/cases/{risk_case_id}/decision-log"
    assert body_ref(document, log, "post") == "DecisionLogEntryIn"
    assert response_ref(document, log, "get", "200") == "DecisionLogEntryOut"


def enum_of(document: dict[str, Any], schema: str, field: str) -> set[str]:
    """The allowed values of a field, following a $ref or an anyOf with null."""
    components = document["components"]["schemas"]
    details = components[schema]["properties"][field]
    options = details.get("anyOf", [details])
    values: set[str] = set()
    for option in options:
        if "$ref" in option:
            option = components[option["$ref"].rsplit("/", 1)[-1]]
        values.update(option.get("enum", []))
    return values


@pytest.mark.parametrize(
    ("schema", "field", "expected"),
    [
        ("CaseOut", "status", {"referred", "active", "cancelled"}),
        ("ArrangementDecisionIn", "to_status", {"active", "declined"}),
        ("ReferralIn", "urgency", {"immediate", "routine"}),
        ("ComplaintOut", "status", {"received", "recorded"}),
        ("OutcomeIn", "outcome", {"no_further_action"}),
        ("AlertOut", "severity", {"critical", "warning", "info"}),
        ("AlertOut", "status", {"raised", "escalated", "acknowledged"}),
        ("DecisionLogEntryIn", "ndm_stage", {"information", "ethics"}),
        ("AssetOut", "state", {"in_stock"}),
        ("SwapOut", "status", {"requested"}),
    ],
)
def test_choice_fields_publish_their_allowed_values(document, schema, field, expected):
    assert expected <= enum_of(document, schema, field)


@pytest.mark.django_db
def test_a_value_outside_a_choice_set_is_a_422_problem(client):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=True
    )
    response = client.post(
        "/api/referrals",
        {
            "subject_name": "Api Fictional",
            "referring_organisation": "Midshire Police",
            "referring_officer": "DC Api",
            "threat_summary": "Threat",
            "urgency": "whenever",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["location"] for e in response.json()["errors"]] == ["body.payload.urgency"]


@pytest.mark.django_db
def test_a_filter_outside_a_choice_set_is_a_422_problem(client):
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=True
    )
    response = client.get(
        "/api/telemetry/alerts?status=sideways", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_published_ndm_stages_are_the_configured_ones():
    from haven.risk.api import NdmStage
    from haven.risk.config import NDM_STAGES

    assert set(typing.get_args(NdmStage)) == {code for code, _ in NDM_STAGES}


def test_published_alert_severities_are_the_classifier_ones():
    from haven.telemetry import events
    from haven.telemetry.api import Severity

    assert set(typing.get_args(Severity)) == {events.CRITICAL, events.WARNING, events.INFO}
