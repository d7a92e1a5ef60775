"""Keep one part of Haven running: `python -m haven.runtime.restarter NAME -- COMMAND...`.

honcho's Manager prefixes each part's output and stops every part on Ctrl-C/SIGTERM, but it
treats any part that exits as the end of the whole run and stops the others. A receiver that
crashes must instead come back on its own while the rest keep serving, so each part runs under
this wrapper: it restarts its child with back-off whenever it dies and exits only when told to
stop (SIGTERM/SIGINT, which it passes on to the child).

Deliberately free of Django so that it starts in milliseconds and cannot fail with the child.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A child that ran this long is considered healthy: its next crash restarts it quickly again.
HEALTHY_AFTER_S = 30.0
STOP_WAIT_S = 10.0


class Restarter:
    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def say(self, message: str) -> None:
        print(f"[{self.name}] {message}", flush=True)

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        backoff = FIRST_BACKOFF_S
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)  # noqa: S603 - Haven's own command line
            self.say(f"started pid={self.child.pid}")
            returncode = self.child.wait()
            if self.stopping:
                break
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                backoff = FIRST_BACKOFF_S
            self.say(f"exited with {returncode}; restarting in {backoff:.0f} s")
            self._sleep_unless_stopped(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        self._wait_for_child()
        return 0

    def _sleep_unless_stopped(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def _wait_for_child(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        try:
            self.child.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.say("did not stop in time; killing it")
            self.child.kill()
            self.child.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m haven.runtime.restarter NAME -- COMMAND...", file=sys.stderr)
        return 2
    return Restarter(argv[0], argv[2:]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
