"""One transition table type for every workflow (DESIGN.md, "One way each").

A workflow states its legal moves once, as a :class:`TransitionTable` of :class:`Transition`
rows: source, target, the roles that may make the move, the legal source (citation) and the
fields the move requires. Services ask the table (``check``); views ask it what to offer
(``targets_from``, ``targets_for``); nothing else encodes a state machine.

``roles`` empty means the table does not restrict the move by role: the service decides who
may make it (team membership, authorship, ...). ``citation`` empty means no statute fixes the
move (a service rule or local policy).

Core module: it imports nothing from the domains or the interfaces, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

# (table, source, target) -> the message refusing a move the table does not list
Refusal = Callable[["TransitionTable", str, str], str]


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset[str] = frozenset()
    citation: str = ""
    required_fields: tuple[str, ...] = ()

    def permits(self, roles: Iterable[str]) -> bool:
        """True if someone holding ``roles`` may make this move (no roles: the service decides)."""
        return not self.roles or not self.roles.isdisjoint(roles)

    def requires(self, field: str) -> bool:
        return field in self.required_fields

    def missing(self, data: Mapping[str, object]) -> tuple[str, ...]:
        """The required fields that ``data`` leaves out or blank, in the order declared."""
        return tuple(name for name in self.required_fields if _blank(data.get(name)))


class TransitionError(ValidationError):
    """A refused move. ``reason`` says why: "unknown" (not in the table), "role" (the table's
    roles for the move exclude the caller) or "fields" (required fields missing)."""

    def __init__(
        self,
        message: str | dict[str, str],
        *,
        source: str,
        target: str,
        reason: str = "unknown",
        code: str = "illegal_transition",
        missing: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, code=code)
        self.source = source
        self.target = target
        self.reason = reason
        self.missing = missing


class TransitionTable(Mapping[tuple[str, str], Transition]):
    """The legal moves of one workflow, keyed by (source, target), in the order declared.

    ``name`` names the thing that moves ("complaint"); ``labels`` maps states to what users
    read; ``field`` is the form field a refusal is reported against (None: a non-field error);
    ``refusal`` words the refusal of an unknown move; ``field_messages`` words each missing
    required field.
    """

    def __init__(
        self,
        name: str,
        transitions: Iterable[Transition],
        *,
        labels: Mapping[str, str] | None = None,
        field: str | None = None,
        refusal: Refusal | None = None,
        field_messages: Mapping[str, str] | None = None,
        version: int = 1,
    ) -> None:
        self.name = name
        self.labels: Mapping[str, str] = dict(labels or {})
        self.field = field
        self.version = version
        self._refusal = refusal
        self._field_messages: Mapping[str, str] = dict(field_messages or {})
        self._rules: dict[tuple[str, str], Transition] = {}
        for rule in transitions:
            key = (str(rule.source), str(rule.target))
            if key in self._rules:
                raise ValueError(f"{name}: transition {key} is declared twice")
            self._rules[key] = rule

    @classmethod
    def from_moves(
        cls, name: str, moves: Mapping[str, Iterable[str]], **options: Any
    ) -> TransitionTable:
        """A table from {source: targets} for a workflow whose moves carry no roles, citation
        or required fields (the service decides who may make them)."""
        return cls(
            name,
            (Transition(source, target) for source, targets in moves.items() for target in targets),
            **options,
        )

    # Mapping protocol: TABLE[(source, target)], TABLE.get(...), (source, target) in TABLE.
    def __getitem__(self, key: tuple[str, str]) -> Transition:
        return self._rules[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"<TransitionTable {self.name}: {len(self)} transitions>"

    @property
    def states(self) -> frozenset[str]:
        return frozenset(state for key in self._rules for state in key)

    def label(self, state: str) -> str:
        return str(self.labels.get(state, state))

    def rule(self, source: str, target: str) -> Transition | None:
        return self._rules.get((source, target))

    def allows(self, source: str, target: str) -> bool:
        return (source, target) in self._rules

    def targets_from(self, source: str) -> list[str]:
        """Every state ``source`` may move to, in the order declared ([] for a final state)."""
        return [target for (start, target) in self._rules if start == source]

    def targets_for(self, roles: Iterable[str], source: str) -> list[str]:
        """The states someone holding ``roles`` may move ``source`` to."""
        held = frozenset(roles)
        return [t for t in self.targets_from(source) if self._rules[(source, t)].permits(held)]

    def choices_from(self, source: str) -> list[tuple[str, str]]:
        """(value, label) pairs for a form offering the moves from ``source``."""
        return [(target, self.label(target)) for target in self.targets_from(source)]

    def missing(self, rule: Transition, data: Mapping[str, object]) -> dict[str, str]:
        """Each required field ``data`` leaves blank, with the message to show against it."""
        return {name: self.field_message(name) for name in rule.missing(data)}

    def field_message(self, name: str) -> str:
        return self._field_messages.get(name, f"Enter the {name.replace('_', ' ')}")

    def refusal(self, source: str, target: str, message: str | None = None) -> TransitionError:
        """The error for a move the table does not list (worded by ``message`` if given)."""
        if message is not None:
            text = message
        elif self._refusal is not None:
            text = self._refusal(self, source, target)
        else:
            text = (
                f"A {self.name} cannot move from '{self.label(source)}' to '{self.label(target)}'"
            )
        return TransitionError(
            {self.field: text} if self.field else text, source=source, target=target
        )

    def check(
        self,
        source: str,
        target: str,
        roles: Iterable[str] | None = None,
        data: Mapping[str, object] | None = None,
        *,
        message: str | None = None,
    ) -> Transition:
        """The rule for moving ``source`` to ``target``, or TransitionError: the move is not in
        the table (worded by ``message`` if the caller knows better, e.g. the version number);
        ``roles`` (if given) hold none of the move's roles; ``data`` (if given) leaves a required
        field blank (all of them are reported, each against its field)."""
        rule = self._rules.get((source, target))
        if rule is None:
            raise self.refusal(source, target, message)
        if roles is not None and not rule.permits(roles):
            text = (
                f"Your role does not allow a {self.name} to move from "
                f"'{self.label(source)}' to '{self.label(target)}'"
            )
            raise TransitionError(
                {self.field: text} if self.field else text,
                source=source,
                target=target,
                reason="role",
                code="role_refused",
            )
        if data is not None:
            missing = self.missing(rule, data)
            if missing:
                raise TransitionError(
                    missing,
                    source=source,
                    target=target,
                    reason="fields",
                    code="required",
                    missing=tuple(missing),
                )
        return rule


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
