"""haven-witness over real HTTP: cosigns consistent checkpoints, refuses forks and rollbacks."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven.audit import note
from haven.audit.checkpoint import generate_signing_key
from haven.audit.merkle import MerkleTree, leaf_hashes_of
from haven.audit.witness import StateStore, Witness, make_server

ORIGIN = "test.invalid/ledger"
LOG_KEY = generate_signing_key()
WITNESS_KEY = generate_signing_key()
WITNESS_NAME = "test.invalid/witness"
WITNESS_VKEY = note.VerifierKey(
    WITNESS_NAME, note.ALGORITHM_COSIGNATURE_V1, WITNESS_KEY.public_key()
)
LOG_VKEY = note.VerifierKey(ORIGIN, note.ALGORITHM_ED25519, LOG_KEY.public_key())
HISTORY = MerkleTree(leaf_hashes_of([f"entry {n}".encode() for n in range(40)]))
FORK = MerkleTree(leaf_hashes_of([f"entry {n}".encode() if n != 3 else b"x" for n in range(40)]))


def serve(state_dir: Path) -> tuple[str, threading.Thread, object]:
    witness = Witness(WITNESS_NAME, WITNESS_KEY, [LOG_VKEY], StateStore(state_dir))
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", thread, server


@pytest.fixture
def witness_url(tmp_path: Path) -> Iterator[str]:
    url, _, server = serve(tmp_path / "state")
    yield url
    server.shutdown()  # type: ignore[attr-defined]
    server.server_close()  # type: ignore[attr-defined]


def checkpoint_note(tree: MerkleTree, size: int, key: object = LOG_KEY) -> str:
    body = note.CheckpointBody(ORIGIN, size, tree.root(size)).text()
    return note.Note(body, (note.sign_note_text(body, ORIGIN, key),)).render()  # type: ignore[arg-type]


def submit(
    url: str, tree: MerkleTree, old: int, size: int, key: object = LOG_KEY
) -> tuple[int, str]:
    proof = tree.consistency_proof(old, size) if 0 < old <= size else []
    import base64

    lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
    body = "\n".join(lines) + "\n\n" + checkpoint_note(tree, size, key)
    request = urllib.request.Request(url + "/add-checkpoint", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_cosigns_a_consistent_checkpoint(witness_url: str) -> None:
    assert submit(witness_url, HISTORY, 0, 10)[0] == 200
    status, body = submit(witness_url, HISTORY, 10, 25)
    assert status == 200
    (signature,) = note.parse_signature_lines(body)
    text = note.CheckpointBody(ORIGIN, 25, HISTORY.root(25)).text()
    assert note.verify_cosignature(text, signature, WITNESS_VKEY)
    assert not note.verify_cosignature(
        note.CheckpointBody(ORIGIN, 25, FORK.root(25)).text(), signature, WITNESS_VKEY
    )


def test_refuses_a_fork(witness_url: str) -> None:
    assert submit(witness_url, HISTORY, 0, 10)[0] == 200
    status, body = submit(witness_url, FORK, 10, 25)  # entry 3 rewritten, re-signed
    assert status == 422
    assert body.startswith("inconsistent: the checkpoint of size 25 does not extend")
    status, body = submit(witness_url, FORK, 10, 10)  # same size, other root
    assert (status, body) == (409, "10\n")


def test_refuses_a_rollback(witness_url: str) -> None:
    assert submit(witness_url, HISTORY, 0, 20)[0] == 200
    assert submit(witness_url, HISTORY, 0, 12) == (409, "20\n")  # the log forgot what it said
    assert submit(witness_url, HISTORY, 20, 12)[0] == 400  # old size beyond the checkpoint


def test_refuses_a_bad_or_unknown_signature(witness_url: str) -> None:
    assert submit(witness_url, HISTORY, 0, 10, key=generate_signing_key())[0] == 403
    good = checkpoint_note(HISTORY, 10)
    forged = good.replace("\n10\n", "\n11\n", 1)  # altered after signing
    request = urllib.request.Request(
        witness_url + "/add-checkpoint", data=("old 0\n\n" + forged).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert refused.value.code == 403


def test_state_survives_a_restart(tmp_path: Path) -> None:
    url, _, server = serve(tmp_path / "state")
    assert submit(url, HISTORY, 0, 15)[0] == 200
    server.shutdown()  # type: ignore[attr-defined]
    server.server_close()  # type: ignore[attr-defined]
    url, _, server = serve(tmp_path / "state")
    try:
        assert submit(url, HISTORY, 0, 30) == (409, "15\n")
        assert submit(url, FORK, 15, 30)[0] == 422
        assert submit(url, HISTORY, 15, 30)[0] == 200
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def test_the_witness_module_does_not_import_django() -> None:
    import subprocess
    import sys

    code = "import sys, haven.audit.witness; print('django' in sys.modules)"
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    ).stdout
    assert out.strip() == "False"
