"""The chain of custody as a state machine (hypothesis): random sequences of issue, hand-over,
deploy, recover, return, state changes and deployment status changes, by people with and
without the right, are checked against a small model of the rules in equipment/services.py.

After every step: an action is accepted exactly when the model allows it; an accepted one appends
its custody entry (if it is a hand-over) and one ledger entry; a refused one changes nothing;
every asset's chain is append-only and intact; an asset is where its last custody entry put it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.equipment import services
from haven.equipment.models import (
    DEPLOYABLE_STATES,
    MANUAL_TRANSITIONS,
    OUT_OF_SERVICE,
    Asset,
    AssetState,
    CustodyEvent,
    CustodyKind,
    Deployment,
    DeploymentStatus,
    TeamPlace,
)
from tests.db import scaffolding_block
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REFUSED = (ValidationError, PermissionDenied, Http404)
PEOPLE = ("boss", "tech", "spare", "outsider")  # supervisor, technician on "near", others
DEPLOYMENTS = ("near", "far")  # the assets are on both; only the boss is on "far"'s team
ASSET_NAMES = ("a", "b", "c")  # three, so that retiring one does not end the example
ASSETS = st.sampled_from(ASSET_NAMES)
# Draws lean towards what may succeed ("right": the person or plan the rules would accept for
# the asset as it is now), so that examples get past the first refusal and reach deep states;
# "wrong" is someone the rules refuse for who they are (not the holder, not on the team); the
# others try everyone and everywhere.
KINDS = (CustodyKind.ISSUED, CustodyKind.HANDOVER, CustodyKind.DEPLOYED)
KINDS += (CustodyKind.RECOVERED, CustodyKind.RETURNED)
ACTIONS = st.sampled_from((*KINDS, *KINDS, "state", "status"))
WHO = st.sampled_from(("right", "right", "wrong", *PEOPLE))
WHERE = st.sampled_from(("right", "right", *DEPLOYMENTS))
SIGNED = st.sampled_from((True, True, True, False))
SUPERVISOR_OR_NOT = st.sampled_from(("boss", "boss", "boss", "tech", "outsider"))
# Every state and status can be asked for; the ones that end an item's or a plan's life less often.
NEW_STATE = st.sampled_from(
    (*AssetState.values, AssetState.IN_STOCK, AssetState.CONFIGURED, AssetState.MAINTENANCE)
)
NEW_STATUS = st.sampled_from((*DeploymentStatus.values, DeploymentStatus.LIVE))
STATUS_MOVES = {
    DeploymentStatus.PLANNED: {DeploymentStatus.LIVE, DeploymentStatus.CANCELLED},
    DeploymentStatus.LIVE: {DeploymentStatus.COMPLETED},
    DeploymentStatus.COMPLETED: set(),
    DeploymentStatus.CANCELLED: set(),
}


@dataclass
class World:
    people: dict[str, User]
    deployments: dict[str, Deployment]
    assets: dict[str, Asset]
    teams: dict[str, set[str]] = field(default_factory=dict)


def build_world() -> World:
    boss, tech, spare = supervisor(), technician(), technician()
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    start = timezone.now() + timedelta(days=2)
    near = make_deployment(boss, start=start)
    far = make_deployment(boss, start=start + timedelta(days=10))
    services.add_team_member(boss, near.pk, tech, TeamPlace.TECHNICIAN)
    assets = {name: make_asset(boss) for name in ASSET_NAMES}
    for deployment in (near, far):
        for asset in assets.values():
            services.assign_asset(boss, deployment.pk, asset)
    return World(
        people={"boss": boss, "tech": tech, "spare": spare, "outsider": outsider},
        deployments={"near": near, "far": far},
        assets=assets,
        teams={"near": {"boss", "tech"}, "far": {"boss"}},
    )


@dataclass
class Item:
    """The model of one asset: who or where holds it, its state, the plans it is assigned to."""

    pk: Any
    on: set[str]
    holder: str | None = None
    place: str = services.STORE
    state: str = AssetState.IN_STOCK
    chain: list[tuple[Any, ...]] = field(default_factory=list)


class CustodyMachine(RuleBasedStateMachine):
    world: World  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.block = scaffolding_block()
        self.block.__enter__()  # every example starts from the world and is rolled back
        self.items: dict[str, Item] = {}
        self.status = {name: DeploymentStatus.PLANNED for name in DEPLOYMENTS}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.block.__exit__(None, None, None)

    # ------------------------------------------------------------------ helpers

    def chains(self) -> dict[Any, list[tuple[Any, ...]]]:
        """Every modelled asset's custody entries, in order, in one query."""
        found: dict[Any, list[tuple[Any, ...]]] = {item.pk: [] for item in self.items.values()}
        rows = (
            CustodyEvent.objects.filter(asset_id__in=list(found))
            .order_by("asset", "sequence")
            .values_list(
                "asset", "id", "sequence", "kind", "signed_by", "entry_hash", "to_user", "to_place"
            )
        )
        for asset, *entry in rows:
            found[asset].append(tuple(entry))
        return found

    def snapshot(self) -> tuple[Any, ...]:
        assets = Asset.objects.filter(pk__in=[i.pk for i in self.items.values()]).order_by("pk")
        deployments = Deployment.objects.filter(
            pk__in=[d.pk for d in self.world.deployments.values()]
        ).order_by("pk")
        return (
            [model_to_dict(a) for a in assets],
            [model_to_dict(d) for d in deployments],
            self.chains(),
            LedgerEntry.objects.count(),
        )

    def site(self, deployment: str) -> str:
        return f"Site of {self.world.deployments[deployment].reference}"

    def right_person(self, kind: str, item: Item) -> str:
        if kind == CustodyKind.ISSUED:
            return "tech"
        if kind == CustodyKind.HANDOVER:
            return "boss" if item.holder == "tech" else "tech"
        if kind == CustodyKind.RECOVERED:
            return "tech" if item.place == self.site("near") else "boss"
        return item.holder or "boss"

    def wrong_person(self, kind: str, item: Item) -> str:
        if kind in (CustodyKind.ISSUED, CustodyKind.HANDOVER):
            return "outsider"
        return "tech" if item.holder == "spare" else "spare"

    def right_plan(self, kind: str, item: Item, who: str) -> str:
        if kind == CustodyKind.RECOVERED:
            return next((name for name in DEPLOYMENTS if item.place == self.site(name)), "near")
        return next((name for name in DEPLOYMENTS if who in self.world.teams[name]), "near")

    def attempt(
        self,
        allowed: bool,
        action: Any,
        *,
        item: Item | None = None,
        custody_kind: str | None = None,
        who: str = "",
    ) -> bool:
        """Run the action; check it was accepted exactly when the model allows, and what it
        wrote (accepted) or that it wrote nothing (refused)."""
        label = custody_kind or "state or status change"
        before = self.snapshot()
        try:
            action()
        except REFUSED as refusal:
            assert not allowed, f"refused, but the rules allow it: {refusal}"
            assert self.snapshot() == before, "a refused action changed something"
            event(f"refused {label}")
            return False
        event(f"accepted {label}")
        assert allowed, "accepted, but the rules refuse it"
        assert LedgerEntry.objects.count() == before[3] + 1, "one ledger entry per action"
        chains = self.chains()
        for other in self.items.values():
            chain = chains[other.pk]
            if custody_kind and other is item:
                assert len(chain) == len(other.chain) + 1, "one custody entry per hand-over"
                _, _, kind, signed_by, *_ = chain[-1]
                assert kind == custody_kind and signed_by == self.world.people[who].pk
            else:
                assert chain == other.chain, "only an item's hand-overs write to its chain"
        return True

    def custody_action(
        self, item: Item, who: str, kind: str, signed: bool = True, **kwargs: Any
    ) -> Any:
        actor = self.world.people[who]
        signature = actor.get_full_name() if signed else "Someone Else Entirely"
        return lambda: services.record_custody(
            actor, item.pk, kind=kind, signature=signature, **kwargs
        )

    def in_service(self, item: Item, who: str, signed: bool) -> bool:
        return who != "outsider" and signed and item.state not in OUT_OF_SERVICE

    # ------------------------------------------------------------------ rules

    @rule(
        asset=ASSETS,
        action=ACTIONS,
        who=WHO,
        giver=WHO,
        where=WHERE,
        signed=SIGNED,
        supervisor=SUPERVISOR_OR_NOT,
        new_state=NEW_STATE,
        status=NEW_STATUS,
    )
    def step(
        self,
        asset: str,
        action: str,
        who: str,
        giver: str,
        where: str,
        signed: bool,
        supervisor: str,
        new_state: str,
        status: str,
    ) -> None:
        """One action of any kind. A single rule, so that every kind is tried in every example
        (hypothesis leaves some rules out of some examples), in the proportions of ACTIONS."""
        if action == "state":
            self.change_state(self.items[asset], supervisor, new_state)
            return
        if action == "status":
            self.set_status(supervisor, where if where != "right" else "near", status)
            return
        kind = action
        item = self.items[asset]
        if who in ("right", "wrong"):
            chosen = self.right_person if who == "right" else self.wrong_person
            who = chosen(kind, item)
        where = self.right_plan(kind, item, who) if where == "right" else where
        if kind == CustodyKind.ISSUED:
            self.issue(item, who, signed)
        elif kind == CustodyKind.HANDOVER:
            if giver in ("right", "wrong"):
                not_holder = "tech" if item.holder == "spare" else "spare"
                giver = (item.holder or "boss") if giver == "right" else not_holder
            self.hand_over(item, who, giver, signed)
        elif kind == CustodyKind.DEPLOYED:
            self.deploy(item, who, where, signed)
        elif kind == CustodyKind.RECOVERED:
            self.recover(item, who, where, signed)
        else:
            self.hand_in(item, who, signed)

    @initialize()
    def model_the_assets(self) -> None:
        for name, asset in self.world.assets.items():
            self.items[name] = Item(asset.pk, on=set(DEPLOYMENTS))
        for item in self.items.values():
            item.chain = self.chains()[item.pk]

    def issue(self, item: Item, who: str, signed: bool) -> None:
        allowed = (
            self.in_service(item, who, signed)
            and item.holder is None
            and item.place == services.STORE
            and item.state in (*DEPLOYABLE_STATES, AssetState.RECOVERED)
        )
        action = self.custody_action(item, who, CustodyKind.ISSUED, signed)
        if self.attempt(allowed, action, item=item, custody_kind=CustodyKind.ISSUED, who=who):
            item.holder, item.place = who, ""

    def hand_over(self, item: Item, who: str, giver: str, signed: bool) -> None:
        allowed = self.in_service(item, who, signed) and item.holder == giver and giver != who
        action = self.custody_action(
            item,
            who,
            CustodyKind.HANDOVER,
            signed,
            from_user=self.world.people[giver],
            location="Yard",  # a hand-over has no default place
        )
        if self.attempt(allowed, action, item=item, custody_kind=CustodyKind.HANDOVER, who=who):
            item.holder = who

    def deploy(self, item: Item, who: str, where: str, signed: bool) -> None:
        allowed = (
            self.in_service(item, who, signed)
            and who in self.world.teams[where]
            and item.holder == who
            and where in item.on
            and self.status[where] in (DeploymentStatus.PLANNED, DeploymentStatus.LIVE)
        )
        action = self.custody_action(
            item, who, CustodyKind.DEPLOYED, signed, deployment_id=self.world.deployments[where].pk
        )
        if self.attempt(allowed, action, item=item, custody_kind=CustodyKind.DEPLOYED, who=who):
            item.holder, item.place, item.state = None, self.site(where), AssetState.DEPLOYED
            if self.status[where] == DeploymentStatus.PLANNED:
                self.status[where] = DeploymentStatus.LIVE

    def recover(self, item: Item, who: str, where: str, signed: bool) -> None:
        allowed = (
            self.in_service(item, who, signed)
            and who in self.world.teams[where]
            and item.state == AssetState.DEPLOYED
            and item.place == self.site(where)
        )
        action = self.custody_action(
            item, who, CustodyKind.RECOVERED, signed, deployment_id=self.world.deployments[where].pk
        )
        if self.attempt(allowed, action, item=item, custody_kind=CustodyKind.RECOVERED, who=who):
            item.holder, item.place, item.state = who, "", AssetState.RECOVERED

    def hand_in(self, item: Item, who: str, signed: bool) -> None:
        allowed = (
            self.in_service(item, who, signed)
            and item.holder is not None
            and (item.holder == who or who == "boss")
        )
        action = self.custody_action(item, who, CustodyKind.RETURNED, signed)
        if self.attempt(allowed, action, item=item, custody_kind=CustodyKind.RETURNED, who=who):
            item.holder, item.place = None, services.STORE

    def change_state(self, item: Item, who: str, new_state: str) -> None:
        allowed = (
            who == "boss"
            and MANUAL_TRANSITIONS.allows(item.state, new_state)
            and not (item.holder is not None and new_state in OUT_OF_SERVICE)
        )
        actor = self.world.people[who]
        action = lambda: services.change_state(actor, item.pk, new_state, "machine")  # noqa: E731
        if self.attempt(allowed, action):
            item.state = new_state

    def set_status(self, who: str, where: str, status: str) -> None:
        still_deployed = any(
            item.state == AssetState.DEPLOYED and item.place == self.site(where)
            for item in self.items.values()
        )
        allowed = (
            who == "boss"
            and status in STATUS_MOVES[self.status[where]]
            and not (status == DeploymentStatus.COMPLETED and still_deployed)
        )
        actor, deployment = self.world.people[who], self.world.deployments[where]
        action = lambda: services.set_status(actor, deployment.pk, status, outcome="Done")  # noqa: E731
        if self.attempt(allowed, action):
            self.status[where] = status

    # ------------------------------------------------------------------ invariants

    @invariant()
    def chains_are_intact_and_assets_where_their_last_entry_put_them(self) -> None:
        chains = self.chains()
        assets = {a.pk: a for a in Asset.objects.filter(pk__in=list(chains))}
        for name, item in self.items.items():
            chain, asset = chains[item.pk], assets[item.pk]
            assert chain[: len(item.chain)] == item.chain, (
                f"{name}: an entry was altered or removed"
            )
            assert [row[1] for row in chain] == list(range(1, len(chain) + 1)), name
            if chain != item.chain:
                assert services.chain_is_intact(asset), name
            item.chain = chain
            *_, last_to_user, last_to_place = chain[-1]
            assert asset.holder_id == last_to_user, name
            if asset.holder_id is None:
                assert asset.place == last_to_place, name
            holder = self.world.people[item.holder].pk if item.holder else None
            actual = (asset.holder_id, asset.place, asset.state)
            assert actual == (holder, item.place, item.state), name

    @invariant()
    def deployments_are_in_the_modelled_status(self) -> None:
        statuses = dict(
            Deployment.objects.filter(
                pk__in=[d.pk for d in self.world.deployments.values()]
            ).values_list("pk", "status")
        )
        for name, deployment in self.world.deployments.items():
            assert statuses[deployment.pk] == self.status[name], name


def test_custody_chain_follows_its_rules_whatever_the_order_of_actions(db: None) -> None:
    machine = type("Custody", (CustodyMachine,), {"world": build_world()})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
