"""Policy-checked reads of cases. Each read is written to the ledger with its purpose;
a case the user may not see answers exactly like a case that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from haven.access import policy
from haven.access.purposes import Purpose
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.vault.fields import index_for

from .models import OBJECT_TYPE, Case, IdentityRecord

PAGE_SIZE = 25
SORTS = {
    "reference": "reference",
    "-reference": "-reference",
    "created": "created_at",
    "-created": "-created_at",
    "status": "status",
}
CASE_FIELDS = ("reference", "status", "subject_name", "subject_dob", "address", "classification")
LIST_FIELDS = ("reference", "status", "subject_name", "classification")


class CaseNotFound(Http404):
    pass


def require_purpose(purpose: str | None) -> str:
    if purpose not in Purpose.values:
        raise ValueError("a purpose for reading protected data is required")
    return purpose  # type: ignore[return-value]


def cases_visible_to(user: User) -> QuerySet[Case]:
    """NetBox-style restricted queryset: module role, clearance, then team or live grant."""
    if not user.is_authenticated or not user.can_use(Module.PROTECTION):
        return Case.objects.none()
    return Case.objects.filter(
        policy.reachable_filter(user, OBJECT_TYPE), classification__lte=user.clearance
    )


@dataclass(frozen=True)
class CaseSearch:
    reference: str = ""
    name: str = ""
    dob: str = ""
    status: str = ""
    sort: str = "-created"


def search_cases(user: User, search: CaseSearch) -> QuerySet[Case]:
    cases = cases_visible_to(user)
    if search.reference:
        cases = cases.filter(reference__icontains=search.reference.strip())
    if search.name:
        cases = cases.filter(name_index=index_for("name", search.name))
    if search.dob:
        cases = cases.filter(dob_index=index_for("dob", search.dob))
    if search.status:
        cases = cases.filter(status=search.status)
    return cases.order_by(SORTS.get(search.sort, "-created_at"), "reference")


@transaction.atomic
def list_cases(
    user: User, search: CaseSearch, page_number: int | str | None, purpose: str | None
) -> Page:
    """One consultation entry per page of results, naming the cases shown."""
    purpose = require_purpose(purpose)
    page = Paginator(search_cases(user, search), PAGE_SIZE).get_page(page_number)
    cases = list(page.object_list)
    if search.name or search.dob:
        # Blind indexes are truncated on purpose: confirm on the decrypted value.
        cases = [case for case in cases if matches_exactly(case, search)]
        page.object_list = cases
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=OBJECT_TYPE,
        object_id="list",
        fields=LIST_FIELDS,
        justification=purpose,
        details={"page": page.number, "cases": [str(case.pk) for case in cases]},
    )
    return page


def matches_exactly(case: Case, search: CaseSearch) -> bool:
    from haven.vault.blind_index import normalise_date, normalise_name

    if search.name and normalise_name(case.subject_name) != normalise_name(search.name):
        return False
    if search.dob:
        if case.subject_dob is None:
            return False
        try:
            return normalise_date(case.subject_dob) == normalise_date(search.dob)
        except ValueError:
            return False
    return True


def find_visible_case(user: User, case_id: UUID | str) -> Case:
    try:
        return cases_visible_to(user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError) as missing:
        raise CaseNotFound("No such case") from missing


@transaction.atomic
def get_case(user: User, case_id: UUID | str, purpose: str | None) -> Case:
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    route = policy.route_to(user, OBJECT_TYPE, case.pk)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=CASE_FIELDS,
        justification=purpose,
        details={"route": route.value if route else "unknown"},
    )
    return case


@transaction.atomic
def get_identity(user: User, case_id: UUID | str, purpose: str | None) -> IdentityRecord | None:
    """The compartment: 404 for anyone outside it, even managers on a break-glass grant."""
    purpose = require_purpose(purpose)
    case = find_identity_case(user, case_id)
    record = IdentityRecord.objects.filter(case=case).first()
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="identity",
        object_id=record.pk if record else "none",
        case_id=case.pk,
        fields=("legacy_name", "legacy_dob", "new_name", "new_dob"),
        justification=purpose,
    )
    return record


def find_identity_case(user: User, case_id: UUID | str) -> Case:
    case = find_visible_case(user, case_id)
    if not policy.may_read_identity(user, OBJECT_TYPE, case.pk):
        raise CaseNotFound("No such case")
    return case


def case_for_management(user: User, case_id: UUID | str) -> Case:
    """Managing the team needs the manager's own team place, never a grant."""
    case = find_visible_case(user, case_id)
    if not policy.may_grant(user, OBJECT_TYPE, case.pk):
        raise CaseNotFound("No such case")
    return case
