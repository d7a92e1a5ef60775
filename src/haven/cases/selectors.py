"""Policy-checked reads of cases. Each read is written to the ledger with its purpose;
a case the user may not see answers exactly like a case that does not exist."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.http import Http404
from django.utils import timezone

from haven import csvfiles
from haven.access import policy
from haven.access.purposes import Purpose
from haven.access.visibility import restrict
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service
from haven.vault.fields import index_for

from . import config, permissions
from .models import (
    OBJECT_TYPE,
    Case,
    CaseLink,
    CaseStatus,
    CaseTask,
    ChecklistTemplate,
    ContactEntry,
    Decision,
    Document,
    IdentityRecord,
    JointProvider,
    Location,
    Partner,
    PartnerRevision,
    Person,
    RecordRevision,
    TaskStatus,
    Transfer,
)

PAGE_SIZE = 25
SORTS = {
    "reference": "reference",
    "-reference": "-reference",
    "created": "created_at",
    "-created": "-created_at",
    "status": "status",
    "received": "received_at",
    "-received": "-received_at",
    "urgency": "urgency",
}
EXPORT_LIMIT = 5000
TRIAGE_STATUSES = (CaseStatus.REFERRED, CaseStatus.ASSESSED)
CASE_FIELDS = ("reference", "status", "subject_name", "subject_dob", "address", "classification")
LIST_FIELDS = ("reference", "status", "subject_name", "classification")


class CaseNotFound(Http404):
    pass


def require_purpose(purpose: str | None) -> str:
    if purpose not in Purpose.values:
        raise ValueError("a purpose for reading protected data is required")
    return purpose  # type: ignore[return-value]


def cases_visible_to(user: User) -> QuerySet[Case]:
    """The cases the user may see (visibility.case_rule: module role, team or grant, clearance)."""
    return restrict(Case, user)


@dataclass(frozen=True)
class CaseSearch:
    reference: str = ""
    name: str = ""
    dob: str = ""
    status: str = ""
    sort: str = "-created"
    urgency: str = ""
    organisation: str = ""
    older_than_days: int | None = None
    statuses: tuple[str, ...] = ()


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
    if search.statuses:
        cases = cases.filter(status__in=search.statuses)
    if search.urgency:
        cases = cases.filter(urgency=search.urgency)
    if search.organisation:
        cases = cases.filter(referring_organisation__icontains=search.organisation.strip())
    if search.older_than_days is not None:
        cases = cases.filter(
            received_at__lt=timezone.now() - timedelta(days=search.older_than_days)
        )
    return cases.order_by(SORTS.get(search.sort, "-created_at"), "reference")


@service
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


def find_visible_case(user: User, case_id: UUID | str, *, for_update: bool = False) -> Case:
    """The case if `user` may see it, else CaseNotFound. `for_update` (a service changing it)
    locks the row until the transaction ends, so its version can be checked as read
    (concurrency.locking.check_version) and bumped by the UPDATE that saves the change."""
    cases = cases_visible_to(user)
    if for_update:
        cases = cases.select_for_update()
    try:
        return cases.get(pk=case_id)
    except (Case.DoesNotExist, ValueError) as missing:
        raise CaseNotFound("No such case") from missing


@service
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


@service
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


def age_days(case: Case) -> int:
    return (timezone.now() - case.received_at).days


def ageing_band(days: int) -> str:
    from .config import AGEING_BANDS

    for limit, label in AGEING_BANDS:
        if days <= limit:
            return label
    return AGEING_BANDS[-1][1]


@service
def triage_queue(
    user: User, search: CaseSearch, page_number: int | str | None, purpose: str | None
) -> Page:
    """Referrals awaiting assessment or decision, oldest first unless sorted otherwise."""
    statuses = (search.status,) if search.status in TRIAGE_STATUSES else TRIAGE_STATUSES
    sort = search.sort if search.sort in SORTS and search.sort != "-created" else "received"
    search = CaseSearch(
        reference=search.reference,
        urgency=search.urgency,
        organisation=search.organisation,
        older_than_days=search.older_than_days,
        statuses=statuses,
        sort=sort,
    )
    page = list_cases(user, search, page_number, purpose)
    for case in page.object_list:
        case.age_days = age_days(case)  # type: ignore[attr-defined]
        case.ageing = ageing_band(case.age_days)  # type: ignore[attr-defined]
    return page


@service
def export_cases_csv(user: User, search: CaseSearch, purpose: str | None) -> str:
    """The case list as CSV: a disclosure, logged with every case it contains."""
    purpose = require_purpose(purpose)
    cases = list(search_cases(user, search)[:EXPORT_LIMIT])
    if search.name or search.dob:
        cases = [case for case in cases if matches_exactly(case, search)]
    content = csvfiles.csv_text(
        ["reference", "status", "marking", "subject", "urgency", "referred by", "received"],
        (
            [
                case.reference,
                case.get_status_display(),
                case.marking,
                case.subject_name,
                case.get_urgency_display(),
                case.referring_organisation,
                timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for case in cases
        ),
    )
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=OBJECT_TYPE,
        object_id="export",
        fields=("reference", "status", "subject_name", "urgency", "referring_organisation"),
        recipients=[user.username],
        justification=purpose,
        details={"format": "csv", "cases": [str(case.pk) for case in cases]},
    )
    return content


@dataclass
class TimelineItem:
    when: datetime
    title: str
    kind: str
    by: str = ""
    body: str = ""
    link: str = ""


@dataclass
class CaseFile:
    case: Case
    people: list[Person] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    contacts: list[ContactEntry] = field(default_factory=list)
    tasks: list[CaseTask] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    joint_providers: list[JointProvider] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)

    def timeline(self) -> list[TimelineItem]:
        case = self.case
        items = [
            TimelineItem(
                case.received_at,
                "Referral received",
                "referral",
                body=f"From {case.referring_organisation or 'not recorded'}"
                f"{' (' + case.referring_officer + ')' if case.referring_officer else ''}; "
                f"urgency {case.get_urgency_display().lower()}.",
            )
        ]
        for d in self.decisions:
            items.append(
                TimelineItem(
                    d.recorded_at,
                    f"{CaseStatus(d.from_status).label} to {CaseStatus(d.to_status).label}",
                    "decision",
                    by=str(d.decision_maker),
                    body=f"Decided {d.decided_on:%d %B %Y}: {d.reason}",
                )
            )
        for p in self.people:
            if p.role != "principal":
                items.append(
                    TimelineItem(
                        p.created_at,
                        f"Associated person added ({p.get_relationship_display().lower()})",
                        "person",
                        body=p.full_name,
                    )
                )
        for loc in self.locations:
            items.append(
                TimelineItem(
                    loc.created_at,
                    f"{loc.get_kind_display()} recorded",
                    "location",
                    body=f"From {loc.valid_from:%d %B %Y}",
                )
            )
        for c in self.contacts:
            items.append(
                TimelineItem(
                    c.occurred_at,
                    f"Contact: {c.get_method_display().lower()}",
                    "contact",
                    by=str(c.recorded_by),
                    body=c.summary,
                )
            )
        for t in self.tasks:
            items.append(
                TimelineItem(
                    t.created_at,
                    f"{t.get_kind_display()} set: {t.title}",
                    "task",
                    by=str(t.created_by),
                    body=f"Owner {t.owner}, due {t.due_on:%d %B %Y}",
                )
            )
            if t.completed_at:
                items.append(
                    TimelineItem(
                        t.completed_at,
                        f"{t.get_kind_display()} done: {t.title}",
                        "task",
                        body=t.response or "",
                    )
                )
        for doc in self.documents:
            items.append(
                TimelineItem(
                    doc.uploaded_at,
                    f"Document uploaded: {doc.title}",
                    "document",
                    by=str(doc.uploaded_by),
                )
            )
        return sorted(items, key=lambda item: item.when, reverse=True)


FILE_FIELDS = (
    *CASE_FIELDS,
    "threat_summary",
    "people",
    "locations",
    "contacts",
    "tasks",
    "documents",
    "decisions",
)


@service
def get_case_file(user: User, case_id: UUID | str, purpose: str | None) -> CaseFile:
    """The case page: the case and everything recorded on it, as one logged consultation."""
    purpose = require_purpose(purpose)
    try:
        case = (
            cases_visible_to(user)
            .annotate(viewer_places=policy.team_places(user, OBJECT_TYPE))
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError) as missing:
        raise CaseNotFound("No such case") from missing
    # The user's places come with the case: a team member's route, and what the page offers
    # (permissions.may_*), need no look-up; only a grant holder's route needs a second one.
    places = policy.places_from(case.viewer_places)
    permissions.read_with_places(case, user, places)
    route = policy.Route.TEAM if places else policy.route_to(user, OBJECT_TYPE, case.pk)
    people = _records(Person, case)
    case_file = CaseFile(
        case=case,
        people=people,
        locations=_records(Location, case),
        contacts=_with_people(_records(ContactEntry, case, "recorded_by"), people),
        tasks=_records(CaseTask, case, "owner", "created_by"),
        documents=_records(Document, case, "uploaded_by"),
        decisions=_records(Decision, case, "decision_maker"),
        joint_providers=_records(JointProvider, case),
        transfers=_records(Transfer, case),
    )
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=FILE_FIELDS,
        justification=purpose,
        details={"route": route.value if route else "unknown", "view": "case file"},
    )
    return case_file


def _records(model: type[Any], case: Case, *users: str) -> list[Any]:
    """One kind of record on a case, in its model's order, each holding the case it was read
    with (so neither a template nor the page's marking looks the case up again). A case holds
    a handful of each, so they are sorted here rather than by the database: the ORDER BY cost
    Django more to compile (about 0.2 ms a query, eight queries a page) than the sort costs."""
    using = router.db_for_read(model)
    query = _RECORD_QUERIES.get((model, users, using)) or _RecordQuery(model, users, using)
    rows = query.rows(case.pk)
    owner = query.owner
    for row in rows:
        owner.set_cached_value(row, case)
    for name in reversed(model._meta.ordering):
        descending = name.startswith("-")
        rows.sort(key=attrgetter(name.lstrip("-")), reverse=descending)
    return rows


class _RecordQuery:
    """`model.objects.filter(case_id=...).select_related(*users)`, compiled once per process
    and database: its SQL differs from case to case only in the case's id, and building and
    compiling the queryset was most of each of the case page's eight record reads (wide
    models: a quoted name per column). The rows become instances as the queryset makes them
    (Django's ModelIterable: the same converters, Model.from_db and select_related
    populators), so the vault's fields load, seal and open exactly as before."""

    def __init__(self, model: type[Any], users: tuple[str, ...], using: str) -> None:
        records = model.objects.filter(case_id=NO_CASE).order_by()
        compiler = (records.select_related(*users) if users else records).query.get_compiler(
            using=using
        )
        self.sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if list(params) not in ([NO_CASE], [NO_CASE.hex]) or compiler.has_extra_select:
            # The case's id must be its only parameter, and every column the instances'.
            raise ValueError(f"{model.__name__} records are not read by the case's id alone")
        self.using, self.model = using, model
        self.owner = model._meta.get_field("case")
        # What each column's value goes through (Django's and the vault's converters), by position.
        self.converters = list(compiler.get_converters(fields).items())
        klass_info = compiler.klass_info
        own = klass_info["select_fields"]
        self.start, self.end = own[0], own[-1] + 1
        # One list for every read: the vault's from_db keeps its load plan by this list.
        self.init_list = [
            column[0].target.attname for column in compiler.select[self.start : self.end]
        ]
        self.populators = get_related_populators(klass_info, compiler.select, using)
        _RECORD_QUERIES[(model, users, using)] = self

    def rows(self, case_id: UUID) -> list[Any]:
        """The case's records, as ModelIterable makes them (converted as
        SQLCompiler.apply_converters converts, with this thread's connection)."""
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, (self.owner.get_db_prep_value(case_id, connection),))
            fetched = cursor.fetchall()
        model, using, init_list = self.model, self.using, self.init_list
        start, end, converters, populators = self.start, self.end, self.converters, self.populators
        records = []
        for row in fetched:
            if converters:
                row = list(row)
                for position, (functions, expression) in converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
            record = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, record)
            records.append(record)
        return records


# An id no case has (uuid4 never makes it): the placeholder the record queries are compiled with.
NO_CASE = UUID(int=0)
_RECORD_QUERIES: dict[tuple[type[Any], tuple[str, ...], str], _RecordQuery] = {}


def _with_people(contacts: list[ContactEntry], people: list[Person]) -> list[ContactEntry]:
    """Attach each contact's person from the case's people (already loaded): no second join."""
    by_id = {person.pk: person for person in people}
    partner_ids = {contact.partner_id for contact in contacts if contact.partner_id}
    partners = Partner.objects.in_bulk(partner_ids) if partner_ids else {}
    for contact in contacts:
        if contact.person_id in by_id:
            contact.person = by_id[contact.person_id]
        if contact.partner_id in partners:
            contact.partner = partners[contact.partner_id]
    return contacts


RECORD_MODELS: dict[str, tuple[type, tuple[str, ...]]] = {
    "person": (Person, ("full_name", "dob", "phone", "notes", "relationship")),
    "location": (Location, ("kind", "address", "coordinates", "valid_from", "valid_to")),
    "contact": (ContactEntry, ("occurred_at", "method", "summary", "concerns", "follow_up")),
    "task": (CaseTask, ("kind", "title", "details", "owner", "due_on", "status", "response")),
    "document": (Document, ("title", "filename", "content_type", "size")),
    "decision": (Decision, ("from_status", "to_status", "reason", "factor_risk")),
}


@service
def case_records(user: User, case_id: UUID | str, kind: str, purpose: str | None) -> list[Any]:
    """One kind of record on a case (API lists), logged as one consultation."""
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    model, fields = RECORD_MODELS[kind]
    records = list(model.objects.filter(case=case))  # type: ignore[attr-defined]
    record_list_read(user, case, kind, fields, purpose, {"records": [str(r.pk) for r in records]})
    return records


def record_list_read(
    user: User,
    case: Case,
    object_type: str,
    fields: Iterable[str],
    purpose: str,
    shown: dict[str, list[Any]],
) -> None:
    """One consultation entry for a list of one kind of record on a case, naming those shown."""
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=object_type,
        object_id="list",
        case_id=case.pk,
        fields=fields,
        justification=purpose,
        details=shown,
    )


def find_record(case: Case, kind: str, record_id: UUID | str) -> Any:
    model, _ = RECORD_MODELS[kind]
    try:
        return model.objects.get(case=case, pk=record_id)  # type: ignore[attr-defined]
    except (model.DoesNotExist, ValueError) as missing:  # type: ignore[attr-defined]
        raise CaseNotFound("No such record") from missing


@service
def get_record(
    user: User, case_id: UUID | str, kind: str, record_id: UUID | str, purpose: str | None
) -> Any:
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    record = find_record(case, kind, record_id)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=kind,
        object_id=record.pk,
        case_id=case.pk,
        fields=RECORD_MODELS[kind][1],
        justification=purpose,
    )
    return record


CORRECTABLE_KINDS = ("location", "contact")


@service
def record_history(
    user: User, case_id: UUID | str, kind: str, record_id: UUID | str, purpose: str | None
) -> tuple[Any, list[RecordRevision]]:
    """A location's or contact's current values and every earlier version (newest first), read
    by someone who may see the case (need-to-know), logged as one consultation."""
    if kind not in CORRECTABLE_KINDS:
        raise CaseNotFound("No such record")
    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    record = find_record(case, kind, record_id)
    revisions = list(
        RecordRevision.objects.filter(case=case, kind=kind, record_id=record.pk).select_related(
            "changed_by"
        )
    )
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=kind,
        object_id=record.pk,
        case_id=case.pk,
        fields=(*RECORD_MODELS[kind][1], "history"),
        justification=purpose,
        details={"versions": len(revisions) + 1},
    )
    return record, revisions


@service
def read_document(
    user: User, case_id: UUID | str, document_id: UUID | str, purpose: str | None
) -> tuple[Document, bytes]:
    """Download: decrypt the blob and log a disclosure to the downloading user."""
    from haven.vault import blobs

    purpose = require_purpose(purpose)
    case = find_visible_case(user, case_id)
    document: Document = find_record(case, "document", document_id)
    data = blobs.read_blob(document.blob_id, document.blob_aad())
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type="document",
        object_id=document.pk,
        case_id=case.pk,
        fields=("content", "filename"),
        recipients=[user.username],
        justification=purpose,
        details={"sha256": document.sha256},
    )
    return document, data


@dataclass
class WorkItem:
    task: CaseTask
    reference: str

    @property
    def overdue(self) -> bool:
        return self.task.overdue


@service
def my_work(user: User, purpose: str | None) -> list[CaseTask]:
    """Open tasks, reviews and escalations the user owns on cases they can still see."""
    purpose = require_purpose(purpose)
    tasks = list(
        restrict(CaseTask.objects.filter(owner=user, status=TaskStatus.OPEN), user)
        .select_related("case")
        .order_by("due_on")[:500]
    )
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="task",
        object_id="my-work",
        fields=("title", "due_on", "kind"),
        justification=purpose,
        details={"tasks": [str(t.pk) for t in tasks]},
    )
    return tasks


def decisions_awaiting_query(user: User) -> QuerySet[Case]:
    """Cases waiting for this user's decision (cases.config.AWAITING_DECISION): their status
    awaits a place on the team the user holds, with the role the decision needs."""
    from django.db.models import Q

    from haven.access.models import TeamMembership

    waiting = Q(pk__in=[])
    for status, awaited in config.AWAITING_DECISION.items():
        if user.has_role(awaited.role):
            places = TeamMembership.objects.filter(
                user=user, object_type=OBJECT_TYPE, team_role=awaited.team_role
            ).values("object_id")
            waiting |= Q(status=status, pk__in=places)
    return cases_visible_to(user).filter(waiting)


@service
def decisions_awaiting(user: User, purpose: str | None) -> list[Case]:
    purpose = require_purpose(purpose)
    cases = list(decisions_awaiting_query(user).order_by("status_changed_at", "reference")[:200])
    if cases:
        ledger.record(
            actor=user,
            action=Action.CONSULTATION,
            object_type=OBJECT_TYPE,
            object_id="decisions-awaiting",
            fields=("reference", "status"),
            justification=purpose,
            details={"cases": [str(c.pk) for c in cases]},
        )
    return cases


def awaiting_deciders(case: Case) -> list[User]:
    """Who decides next on `case` (empty when its status awaits nobody's decision)."""
    from haven.access.models import TeamMembership

    awaited = config.AWAITING_DECISION.get(case.status)
    if awaited is None:
        return []
    members = User.objects.filter(
        is_active=True,
        pk__in=TeamMembership.objects.filter(
            object_type=OBJECT_TYPE, object_id=case.pk, team_role=awaited.team_role
        ).values("user_id"),
    ).order_by("username")
    return [user for user in members if user.has_role(awaited.role)]


@dataclass(frozen=True)
class WorkCounts:
    """What waits for a person in protection, counted without reading protected fields."""

    decisions: int
    tasks: int
    overdue_tasks: int


def work_counts(user: User) -> WorkCounts:
    from django.db.models import Count, Q

    today = timezone.localdate()
    tasks = restrict(CaseTask.objects.filter(owner=user, status=TaskStatus.OPEN), user).aggregate(
        total=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today))
    )
    return WorkCounts(
        decisions=decisions_awaiting_query(user).count(),
        tasks=tasks["total"],
        overdue_tasks=tasks["overdue"],
    )


@dataclass
class Dashboard:
    overdue: list[CaseTask]
    escalations: list[CaseTask]
    status_counts: dict[str, int]
    ageing: dict[str, int]
    cases: int


@service
def manager_dashboard(user: User, purpose: str | None) -> Dashboard:
    """A manager's view over the cases they manage: overdue work, escalations, triage ageing."""
    from django.db.models import Count

    from haven.access.models import TeamMembership, TeamRole

    purpose = require_purpose(purpose)
    managed = cases_visible_to(user).filter(
        pk__in=TeamMembership.objects.filter(
            user=user, object_type=OBJECT_TYPE, team_role=TeamRole.MANAGER
        ).values("object_id")
    )
    today = timezone.localdate()
    open_tasks = CaseTask.objects.filter(case__in=managed, status=TaskStatus.OPEN)
    overdue = list(
        open_tasks.filter(due_on__lt=today).select_related("case", "owner").order_by("due_on")[:200]
    )
    escalations = list(
        open_tasks.filter(kind="escalation")
        .select_related("case", "owner")
        .order_by("due_on")[:200]
    )
    counts = {
        row["status"]: row["n"]
        for row in managed.order_by().values("status").annotate(n=Count("id"))
    }
    status_counts = {label: counts.get(value, 0) for value, label in CaseStatus.choices}
    ageing = {"new": 0, "ageing": 0, "overdue": 0}
    for received in managed.filter(status__in=TRIAGE_STATUSES).values_list(
        "received_at", flat=True
    ):
        ageing[ageing_band((timezone.now() - received).days)] += 1
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="task",
        object_id="dashboard",
        fields=("title", "due_on", "kind", "owner"),
        justification=purpose,
        details={"tasks": [str(t.pk) for t in {*overdue, *escalations}]},
    )
    return Dashboard(overdue, escalations, status_counts, ageing, sum(counts.values()))


def today() -> date:
    return timezone.localdate()


# --------------------------------------------------------------------------- partner directory
#
# The directory is protection work: any protection user reads it (the module gate decides who
# reaches it; these selectors refuse anyone else as well), and every read is ledgered.

PARTNER_TYPE = "partner"
PARTNER_FIELDS = ("organisation", "contact_name", "role", "contact_details", "may_be_told")


class PartnerNotFound(Http404):
    pass


def find_partner(user: User, partner_id: UUID | str, *, active: bool = False) -> Partner:
    """The directory entry, or 404 for anyone outside protection (like a missing entry)."""
    if not user.can_use(Module.PROTECTION):
        raise PartnerNotFound("No such partner")
    entries = Partner.objects.filter(retired_at__isnull=True) if active else Partner.objects
    try:
        return entries.get(pk=partner_id)
    except (Partner.DoesNotExist, ValueError, TypeError) as missing:
        raise PartnerNotFound("No such partner") from missing


def active_partners(user: User) -> list[Partner]:
    """The entries an officer may pick as the party to a contact (names only are shown)."""
    if not user.can_use(Module.PROTECTION):
        return []
    return list(Partner.objects.filter(retired_at__isnull=True))


@service
def list_partners(user: User, *, include_retired: bool = False) -> list[Partner]:
    if not user.can_use(Module.PROTECTION):
        raise PartnerNotFound("No such directory")
    entries = (
        Partner.objects.all()
        if include_retired
        else Partner.objects.filter(retired_at__isnull=True)
    )
    partners = list(entries)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=PARTNER_TYPE,
        object_id="directory",
        fields=PARTNER_FIELDS,
        justification="partner directory listed",
        details={"count": len(partners)},
    )
    return partners


@service
def get_partner(user: User, partner_id: UUID | str) -> Partner:
    partner = find_partner(user, partner_id)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=PARTNER_TYPE,
        object_id=partner.pk,
        fields=(*PARTNER_FIELDS, "may_be_told_notes"),
        justification="partner directory entry read",
    )
    return partner


@service
def partner_history(user: User, partner_id: UUID | str) -> tuple[Partner, list[PartnerRevision]]:
    """A directory entry and every earlier version of it (newest first): who changed what,
    when and why. Logged as one consultation."""
    partner = find_partner(user, partner_id)
    revisions = list(PartnerRevision.objects.filter(partner=partner).select_related("changed_by"))
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=PARTNER_TYPE,
        object_id=partner.pk,
        fields=(*PARTNER_FIELDS, "may_be_told_notes", "history"),
        justification="partner directory entry read",
        details={"versions": len(revisions) + 1},
    )
    return partner, revisions


# --------------------------------------------------------------------------- checklists
#
# Templates hold no personal data: every protection user may read them (unledgered); changes are
# ledgered by the services. Tasks set from one carry its version (CaseTask.checklist).

CHECKLIST_TYPE = "checklist"


class ChecklistNotFound(Http404):
    pass


def find_checklist(
    user: User, template_id: UUID | str, *, active: bool = False
) -> ChecklistTemplate:
    """The template, or 404 for anyone outside protection (like a missing one)."""
    if not user.can_use(Module.PROTECTION):
        raise ChecklistNotFound("No such checklist")
    templates = ChecklistTemplate.objects.all()
    if active:
        templates = templates.filter(retired_at__isnull=True)
    try:
        return templates.get(pk=template_id)
    except (ChecklistTemplate.DoesNotExist, ValueError, TypeError) as missing:
        raise ChecklistNotFound("No such checklist") from missing


def current_items(template: ChecklistTemplate) -> list[Any]:
    return list(template.versions.get(number=template.version).items.all())


def list_checklists(user: User, *, include_retired: bool = False) -> list[ChecklistTemplate]:
    """Templates, each with `items` (its current version's items) attached."""
    if not user.can_use(Module.PROTECTION):
        raise ChecklistNotFound("No such checklist")
    templates = ChecklistTemplate.objects.all()
    if not include_retired:
        templates = templates.filter(retired_at__isnull=True)
    listed = list(templates)
    for template in listed:
        template.items = current_items(template)  # type: ignore[attr-defined]
    return listed


def checklist_with_history(user: User, template_id: UUID | str) -> ChecklistTemplate:
    """The template with `items` (current) and `history` (every version, newest first, each
    with its items): what changed, when, by whom and why."""
    template = find_checklist(user, template_id)
    history = list(template.versions.select_related("made_by").prefetch_related("items"))
    template.history = history  # type: ignore[attr-defined]
    template.items = list(history[0].items.all())  # type: ignore[attr-defined]
    return template


def checklist_applied(case: Case, template: ChecklistTemplate) -> bool:
    """Has any version of the checklist already set tasks on the case?"""
    return CaseTask.objects.filter(case=case, checklist__template=template).exists()


# --------------------------------------------------------------------------- linked cases

CASE_LINK_TYPE = "case_link"


@dataclass(frozen=True)
class LinkedCase:
    link: CaseLink
    case: Case  # the case at the other end


@service
def case_links(user: User, case: Case, purpose: str | None) -> list[LinkedCase]:
    """The case's links to other cases `user` may also see (`case` is one they already read).
    A link to a case they may not see is left out entirely: not listed, not counted."""
    purpose = require_purpose(purpose)
    links = (
        restrict(CaseLink, user)
        .filter(Q(case=case) | Q(linked_case=case))
        .select_related("case", "linked_case", "created_by")
        .order_by("created_at")
    )
    linked = [LinkedCase(link, link.other(case.pk)) for link in links]
    if linked:
        ledger.record(
            actor=user,
            action=Action.CONSULTATION,
            object_type=CASE_LINK_TYPE,
            object_id="list",
            case_id=case.pk,
            fields=("reference", "status", "subject_name", "reason"),
            justification=purpose,
            details={"cases": [str(item.case.pk) for item in linked]},
        )
    return linked


# --------------------------------------------------------------------------- people search

PEOPLE_LIMIT = 50


@dataclass(frozen=True)
class PersonMatch:
    person: Person
    case: Case


@service
def find_people(user: User, search: CaseSearch, purpose: str | None) -> list[PersonMatch]:
    """Everyone recorded on a case `user` may see (principals, family and associates) whose
    name is exactly `search.name` (and date of birth `search.dob`, if given), within the case
    filters of `search`; at most PEOPLE_LIMIT, one logged consultation naming them."""
    from haven.vault.blind_index import normalise_date, normalise_name

    purpose = require_purpose(purpose)
    if not search.name:
        return []
    within = search_cases(user, CaseSearch(**{**search.__dict__, "name": "", "dob": ""}))
    candidates = (
        Person.objects.filter(name_index=index_for("name", search.name), case__in=within)
        .select_related("case")
        .order_by("case__reference", "created_at")
    )
    wanted = normalise_name(search.name)
    matches: list[PersonMatch] = []
    for person in candidates[: PEOPLE_LIMIT * 4]:  # blind indexes are truncated on purpose
        if normalise_name(person.full_name) != wanted:
            continue
        if search.dob and (
            person.dob is None or normalise_date(person.dob) != normalise_date(search.dob)
        ):
            continue
        matches.append(PersonMatch(person, person.case))
        if len(matches) == PEOPLE_LIMIT:
            break
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="person",
        object_id="search",
        fields=("full_name", "dob", "relationship", "role"),
        justification=purpose,
        details={"people": [str(m.person.pk) for m in matches]},
    )
    return matches
