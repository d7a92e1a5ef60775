"""The classification banner of a page: the highest marking of what the page shows or collects.

One mechanism for every page, so no view has to remember it (issue 20, item 4):

- every classified record the view hands its template (a case, an assessment, a deployment, a
  complaint: anything built on `haven.access.models.Classified`) counts, wherever it sits in
  the context: directly, in a list, tuple, dict, page of results or queryset, inside a
  dataclass, named tuple or other object of Haven's own (a case file, a risk summary, a
  dashboard), or on a form;
- a record that is not classified itself counts with the record it belongs to: its foreign
  keys to classified records are followed (a task counts as its case, a measure as its case),
  and so are ids of another domain's records (`deployment_id` on a tracker, `case_id`), named
  by the object types that register a reference series (haven.concurrency.references);
- a reference written in text the page is given (`HVN-2026-00052` in a calendar cell, a
  notification, a choice's label) counts as the record it names;
- records not already loaded are looked up with one query per classified model;
- a form that collects a new record's classification counts with the classification chosen
  (or offered by default), since that is what the form collects;
- a view may still state a floor (`marking_context("TOP SECRET")` on the identity compartment,
  SECRET on the case search, whose form collects names and dates of birth): the banner is the
  higher of the floor and what was found;
- a list that shows nothing shows no protected data: the banner falls back to the floor (the
  shell's OFFICIAL unless the view states one).

If walking the context fails, the banner errs upwards: the user's effective clearance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.core.paginator import Page
from django.db import models
from django.forms import BaseForm, ChoiceField, ModelChoiceField

from haven.access.models import Classified
from haven.accounts.roles import Clearance
from haven.concurrency import references

MAX_DEPTH = 6
MAX_ITEMS = 2000
# Context entries that are the shell's, never what the page shows.
SHELL_KEYS = frozenset(
    {"request", "user", "perms", "messages", "csrf_token", "view", "nav_modules", "down_parts",
     "session_timeout", "DEFAULT_MESSAGE_LEVELS", "unread_notifications", "classification",
     "classification_css", "True", "False", "None"}
)  # fmt: skip


class Marking(NamedTuple):
    level: int
    sensitive: bool = True
    descriptors: frozenset[str] = frozenset()

    @property
    def rank(self) -> tuple[int, bool]:
        return (self.level, self.level == Clearance.OFFICIAL and self.sensitive)

    @property
    def label(self) -> str:
        label = Clearance(self.level).label
        if self.level == Clearance.OFFICIAL and self.sensitive:
            label = "OFFICIAL-SENSITIVE"
        return " ".join([label, *sorted(self.descriptors)])

    @property
    def css(self) -> str:
        return {Clearance.OFFICIAL: "official", Clearance.SECRET: "secret"}.get(
            Clearance(self.level), "top-secret"
        )


OFFICIAL = Marking(Clearance.OFFICIAL, sensitive=False)


def parse(label: str) -> Marking:
    """The marking a view stated as text ("SECRET", "OFFICIAL-SENSITIVE", "TOP SECRET X")."""
    words = label.split()
    if label.startswith("TOP SECRET"):
        return Marking(Clearance.TOP_SECRET, True, frozenset(words[2:]))
    head, rest = (words[0] if words else "OFFICIAL"), frozenset(words[1:])
    if head == "SECRET":
        return Marking(Clearance.SECRET, True, rest)
    return Marking(Clearance.OFFICIAL, head == "OFFICIAL-SENSITIVE", rest)


def of(record: Classified) -> Marking:
    return Marking(record.classification, record.sensitive, frozenset(record.descriptors.split()))


def highest(markings: Iterable[Marking]) -> Marking | None:
    """The highest tier; descriptors of every record at that tier are carried."""
    found = list(markings)
    if not found:
        return None
    top = max(m.rank for m in found)
    descriptors = frozenset().union(*(m.descriptors for m in found if m.rank == top))
    return Marking(top[0], top[1] or top[0] != Clearance.OFFICIAL, descriptors)


class _Walker:
    def __init__(self) -> None:
        self.found: list[Marking] = []
        self.seen: set[int] = set()
        self.pending: dict[type[models.Model], set[Any]] = {}
        self.named: dict[type[models.Model], set[str]] = {}
        self.items = 0

    def walk(self, value: Any, depth: int = 0) -> None:
        if isinstance(value, str):
            self.text(value)
            return
        if value is None or isinstance(value, (bytes, int, float, bool)):
            return
        if depth > MAX_DEPTH or id(value) in self.seen or self.items > MAX_ITEMS:
            return
        self.seen.add(id(value))
        self.items += 1
        if isinstance(value, Classified):
            self.found.append(of(value))
        elif isinstance(value, models.Model):
            self.follow(value)
        elif isinstance(value, BaseForm):
            self.form(value, depth)
        elif isinstance(value, Page):
            for row in value:  # a page of results is shown; Page keeps the rows it loads
                self.walk(row, depth + 1)
        elif isinstance(value, models.QuerySet):
            if value._result_cache is not None or self.concerns(value.model):
                for row in value:  # the template shows these rows; the result is cached
                    self.walk(row, depth + 1)
        elif isinstance(value, Mapping):
            for item in value.values():
                self.walk(item, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                self.walk(item, depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                self.walk(getattr(value, field.name, None), depth + 1)
        elif type(value).__module__.startswith("haven.") and hasattr(value, "__dict__"):
            for item in vars(value).values():  # a domain's own summary object
                self.walk(item, depth + 1)

    @staticmethod
    def concerns(model: type[models.Model]) -> bool:
        """Rows of this model may name a classified record (so an unread queryset is read)."""
        return issubclass(model, Classified) or any(
            (isinstance(f, models.ForeignKey) and _classified(f.related_model))
            or (isinstance(f, models.UUIDField) and _names_classified(f.name))
            or f.name == "reference"
            for f in model._meta.concrete_fields
        )

    def text(self, value: str) -> None:
        if "-" not in value:
            return
        for series, reference in references.named_in(value):
            if _classified(series.model):
                self.named.setdefault(series.model, set()).add(reference)

    def follow(self, record: models.Model) -> None:
        """A record counts as the classified records its foreign keys and ids name."""
        for field in record._meta.concrete_fields:
            loaded = field.attname in record.__dict__  # never load a deferred field
            value = getattr(record, field.attname) if loaded else None
            if isinstance(value, str):
                self.text(value)  # a reference written in a title, a message, a note
            elif isinstance(field, models.UUIDField) and value is not None:
                named = _names_classified(field.name)
                if named is not None:
                    self.pending.setdefault(named, set()).add(value)
            if not isinstance(field, models.ForeignKey):
                continue
            target = field.related_model
            if not (isinstance(target, type) and issubclass(target, Classified)):
                continue
            if field.is_cached(record):
                related = field.get_cached_value(record)
                if isinstance(related, Classified):
                    self.found.append(of(related))
            else:
                key = getattr(record, field.attname)
                if key is not None:
                    self.pending.setdefault(target, set()).add(key)

    def form(self, form: BaseForm, depth: int) -> None:
        instance = getattr(form, "instance", None)
        if instance is not None and instance.pk is not None:
            self.walk(instance, depth + 1)
        for name in ("case", "assessment", "deployment", "complaint"):
            self.walk(getattr(form, name, None), depth + 1)
        if "classification" in form.fields:
            self.found.append(Marking(_collected_classification(form)))
        for field in form.fields.values():  # a choice of records offers what it names
            if isinstance(field, ModelChoiceField):
                self.walk(field.queryset, depth + 1)
            elif isinstance(field, ChoiceField) and isinstance(field.choices, list):
                self.walk(field.choices, depth + 1)

    def resolve(self) -> None:
        lookups = [(model, {"pk__in": keys}) for model, keys in self.pending.items()]
        lookups += [(model, {"reference__in": refs}) for model, refs in self.named.items()]
        for model, where in lookups:
            rows = model._default_manager.filter(**where).values_list(
                "classification", "sensitive", "descriptors"
            )
            for level, sensitive, descriptors in rows:
                self.found.append(Marking(level, sensitive, frozenset(descriptors.split())))


def _classified(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, Classified)


def _names_classified(field_name: str) -> Any:
    """The classified model a `<object type>_id` field names (`deployment_id`), or None."""
    if not field_name.endswith("_id"):
        return None
    series = references.series_for(field_name.removesuffix("_id"))
    return series.model if series is not None and _classified(series.model) else None


def _collected_classification(form: BaseForm) -> int:
    """What a form collecting a classification will mark the record: the value typed, else
    the one it offers; the highest tier it offers if neither can be read."""
    field = form.fields["classification"]
    value = form.data.get(form.add_prefix("classification")) if form.is_bound else None
    if value in (None, ""):
        value = form.initial.get("classification", field.initial)
    try:
        return int(Clearance(int(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        choices = [c for c, _ in getattr(field, "choices", ()) if str(c).isdigit()]
        return max((int(c) for c in choices), default=int(Clearance.TOP_SECRET))


def page_marking(context: Iterable[Mapping[str, Any]], floor: str | None) -> Marking:
    """The banner of a page rendered with these context dictionaries (see the module's text)."""
    walker = _Walker()
    for layer in context:
        for key, value in layer.items():
            if key not in SHELL_KEYS:
                walker.walk(value)
    walker.resolve()
    stated = [parse(floor)] if floor else []
    return highest([*stated, *walker.found]) or OFFICIAL
