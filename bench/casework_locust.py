"""Locust users for bench/casework.py: protection officers working their own cases.

Environment (set by bench/casework.py):
  HAVEN_BENCH_USERS  JSON file written by the loader: one session cookie, API token and case
                     list per officer
  HAVEN_BENCH_THINK  "MIN,MAX" seconds a user waits between actions; "0,0" for none (saturation)

Each simulated user signs in as its own officer (so 20 users are 20 officers, each on their own
caseload) and mixes the three measured operations 3:5:2. Fetching the version number before a
first update is named "(version)" and left out of the figures.

The users are FastHttpUsers (geventhttpclient): the load generator shares the machine's cores
with the server, and requests-based HttpUsers cost several times more CPU per request.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from pathlib import Path

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

OFFICERS = json.loads(open(os.environ["HAVEN_BENCH_USERS"]).read())["users"]  # noqa: SIM115
_next_officer = itertools.count()
_lock = threading.Lock()
THINK_MIN, THINK_MAX = (float(x) for x in os.environ.get("HAVEN_BENCH_THINK", "0,0").split(","))
# Every request's own time, for exact percentiles over several runs (Locust's CSV rounds them
# and cannot be merged): written as JSON when Locust quits.
TIMES_FILE = os.environ.get("HAVEN_BENCH_TIMES")
_times: list[tuple[str, float, bool]] = []


@events.request.add_listener
def _record(name: str, response_time: float, exception: object = None, **_: object) -> None:
    _times.append((name, response_time, exception is None))


@events.quitting.add_listener
def _write_times(**_: object) -> None:
    if TIMES_FILE:
        Path(TIMES_FILE).write_text(json.dumps(_times))


class ProtectionOfficer(FastHttpUser):
    wait_time = between(THINK_MIN, THINK_MAX) if THINK_MAX > 0 else constant(0)

    def on_start(self) -> None:
        with _lock:
            officer = OFFICERS[next(_next_officer) % len(OFFICERS)]
        self.cases: list[str] = officer["cases"]
        self.versions: dict[str, int] = {}
        self.rng = random.Random(officer["session"])
        self.web = {"Cookie": f"sessionid={officer['session']}"}
        self.api = {
            "Authorization": f"Bearer {officer['token']}",
            "X-Haven-Purpose": "case_management",
            "Content-Type": "application/json",
        }
        # Officers do not all click at the same instant: a paced user thinks before its first
        # action too, or the run opens with a burst of 20 requests that no officer makes.
        self.wait()

    @task(3)
    def case_list(self) -> None:
        self.page(f"/cases/?page={self.rng.randint(1, 12)}", "case list")

    @task(5)
    def case_page(self) -> None:
        self.page(f"/cases/{self.rng.choice(self.cases)}/", "case page")

    def page(self, path: str, name: str) -> None:
        """A web page; a redirect (to sign-in, say) is a failure, not a fast success."""
        with self.client.get(
            path, headers=self.web, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    @task(2)
    def case_update(self) -> None:
        case = self.rng.choice(self.cases)
        if case not in self.versions:
            with self.client.get(
                f"/api/cases/{case}", headers=self.api, name="(version)", catch_response=True
            ) as response:
                self.versions[case] = response.json()["version"] if response.ok else 1
        body = {
            "version": self.versions[case],
            "reason": "bench update",
            "address": f"{self.rng.randint(1, 999)} Bench Road",
        }
        with self.client.patch(
            f"/api/cases/{case}",
            json=body,
            headers=self.api,
            name="case update",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.versions[case] += 1
            else:
                self.versions.pop(case, None)  # refetch next time
                response.failure(f"{response.status_code}: {response.text[:200]}")
