"""Bulk loads in several processes: the Python that builds, seals and hashes rows runs on every
core while PostgreSQL runs the COPYs of the others (one process leaves the server idle while
it builds a batch, and itself idle while the server writes it).

Each part runs in a forked process on its own database connection and with its own key ring
(so its encryptions are counted under a lease of its own, as any other process's are), and
commits its own batches; a part that fails makes :func:`run_parts` raise once every part has
ended. Only on PostgreSQL, outside a transaction, from a process with no other thread (a fork
could catch one holding a lock): :func:`can_fork` says when.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable, Sequence

from django.db import connection, connections
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from haven.vault.keyring import reset_keyring_cache

# A part: called in its process with `advance(n)`, to report n more rows of the total done.
Part = Callable[[Callable[[int], None]], None]

_COLUMNS = (
    "[progress.description]{task.description}",
    BarColumn(),
    MofNCompleteColumn(),
    TimeRemainingColumn(),
)


def can_fork() -> bool:
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    )


def run_parts(parts: Sequence[Part], total: int, description: str) -> None:
    """Run each part in a process of its own (in this one when there is one part, or when
    :func:`can_fork` says no), with one progress bar over `total`."""
    if len(parts) == 1 or not can_fork():
        with Progress(*_COLUMNS) as progress:
            bar = progress.add_task(description, total=total)
            for part in parts:
                part(lambda n: progress.advance(bar, n))
        return
    context = multiprocessing.get_context("fork")
    done: multiprocessing.Queue[int] = context.Queue()
    connections.close_all()  # each process opens its own; a shared socket would mix them
    processes = [
        context.Process(target=_run_part, args=(part, done), daemon=True) for part in parts
    ]
    for process in processes:  # before the progress bar's thread starts
        process.start()
    with Progress(*_COLUMNS) as progress:
        bar = progress.add_task(description, total=total)
        while any(p.is_alive() for p in processes) or not done.empty():
            try:
                progress.advance(bar, done.get(timeout=0.5))
            except queue.Empty:
                continue
    for process in processes:
        process.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(parts)} load processes failed: {failed}")


def _run_part(part: Part, done: multiprocessing.Queue[int]) -> None:
    # A ring of its own: the parent's lease (encryptions it reserved) is the parent's alone.
    reset_keyring_cache(keep_blind_index_key=True)
    try:
        part(done.put)
    finally:
        connections.close_all()
