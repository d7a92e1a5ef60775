"""haven-verify end to end: a proof document built by proofdoc, checked by main()."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from haven.audit.checkpoint import (
    Checkpoint,
    checkpoint_to_json,
    generate_signing_key,
    public_key_to_pem,
    sign_checkpoint,
)
from haven.audit.merkle import leaf_hashes_of, root_from_leaf_hashes
from haven.audit.proofdoc import (
    PROOF_FORMAT,
    MalformedProofError,
    build_proof_document,
    parse_proof_document,
    proof_document_to_json,
)
from haven.audit.verifier import main

SIGNING_KEY = generate_signing_key()
ENTRIES = [
    json.dumps({"seq": number, "actor": f"officer-{number % 7}", "action": "consultation"}).encode()
    for number in range(1000)
]
LEAF_HASHES = leaf_hashes_of(ENTRIES)
CHECKPOINT_SIZES = (300, 700, 1000)


def checkpoint_at(size: int, key: Any = SIGNING_KEY) -> Checkpoint:
    root = root_from_leaf_hashes(LEAF_HASHES[:size])
    return sign_checkpoint(
        key, size, root, f"2025-02-0{CHECKPOINT_SIZES.index(size) + 1}T09:00:00Z"
    )


CHECKPOINTS = [checkpoint_at(size) for size in CHECKPOINT_SIZES]


def proof_for(index: int = 41) -> dict[str, Any]:
    fields = json.loads(ENTRIES[index])
    return build_proof_document(index, ENTRIES[index], fields, LEAF_HASHES, CHECKPOINTS)


@pytest.fixture
def public_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "pub.pem"
    path.write_bytes(public_key_to_pem(SIGNING_KEY.public_key()))
    return path


def run(
    tmp_path: Path,
    public_key: Path,
    document: dict[str, Any] | str,
    trusted: Checkpoint | None = None,
) -> int:
    proof_path = tmp_path / "proof.json"
    text = document if isinstance(document, str) else proof_document_to_json(document)
    proof_path.write_text(text)
    arguments = ["--public-key", str(public_key), str(proof_path)]
    if trusted is not None:
        trusted_path = tmp_path / "trusted.json"
        trusted_path.write_text(checkpoint_to_json(trusted))
        arguments += ["--trusted-checkpoint", str(trusted_path)]
    return main(arguments)


def test_valid_proof_passes_every_check(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(tmp_path, public_key_file, proof_for(41))
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    checks = lines[
        : lines.index(
            "WARN no --trusted-checkpoint: a rollback or fork of the ledger goes unnoticed"
        )
    ]
    assert checks and all(line.startswith("OK ") for line in checks)
    assert any(
        line.startswith("OK inclusion of entry 41 in tree of 1000 entries") for line in lines
    )
    assert "OK readable fields of entry 41 match the hashed entry" in lines
    assert (
        "VERIFIED entry 41 (0-based position in the ledger) in the signed tree of 1000 entries"
        in lines
    )
    assert "  actor:  officer-6 (user id (not in entry))" in lines
    assert sum(line.startswith("OK signature") for line in lines) == 3
    assert sum(line.startswith("OK consistency of tree") for line in lines) == 2
    assert any(line.startswith("OK consistency chain") for line in lines)


def test_document_shape_is_as_documented() -> None:
    document = proof_for(41)
    assert document["format"] == PROOF_FORMAT
    assert base64.b64decode(document["entry"]["canonical"]) == ENTRIES[41]
    assert document["inclusion"]["tree_size"] == document["checkpoint"]["tree_size"] == 1000
    steps = document["consistency"]
    assert [(s["old"]["tree_size"], s["new"]["tree_size"]) for s in steps] == [
        (300, 700),
        (700, 1000),
    ]
    assert parse_proof_document(json.loads(proof_document_to_json(document))).index == 41


def test_altered_entry_bytes_fail_inclusion(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    altered = ENTRIES[41].replace(b"consultation", b"alteration")
    document["entry"]["canonical"] = base64.b64encode(altered).decode()
    status = run(tmp_path, public_key_file, document)
    output = capsys.readouterr().out
    assert status == 1
    assert "FAIL inclusion of entry 41 in tree of 1000 entries" in output


def test_wrong_index_fails(tmp_path: Path, public_key_file: Path) -> None:
    document = proof_for(41)
    document["entry"]["index"] = 42
    assert run(tmp_path, public_key_file, document) == 1


def test_altered_checkpoint_root_fails_signature(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    forged_root = root_from_leaf_hashes(LEAF_HASHES[:999])
    document["checkpoint"]["root_hash"] = base64.b64encode(forged_root).decode()
    assert run(tmp_path, public_key_file, document) == 1
    assert "FAIL signature on checkpoint of 1000 entries" in capsys.readouterr().out


def test_unknown_signing_key_fails(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_key = generate_signing_key()
    checkpoints = [checkpoint_at(size, other_key) for size in CHECKPOINT_SIZES]
    document = build_proof_document(41, ENTRIES[41], {}, LEAF_HASHES, checkpoints)
    assert run(tmp_path, public_key_file, document) == 1
    assert "signed by unknown key" in capsys.readouterr().out


def test_tampered_consistency_proof_fails(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    proof = document["consistency"][0]["proof"]
    proof[0] = base64.b64encode(bytes(32)).decode()
    assert run(tmp_path, public_key_file, document) == 1
    assert "FAIL consistency of tree of 300 entries" in capsys.readouterr().out


def test_broken_consistency_chain_fails(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    document["consistency"].pop()  # chain now stops at 700, short of the signed 1000
    assert run(tmp_path, public_key_file, document) == 1
    assert "FAIL consistency chain" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"format": "haven-proof/v0"}),
        json.dumps({**proof_for(3), "format": "haven-proof/v2"}),
        json.dumps({**proof_for(3), "inclusion": {"tree_size": -1, "proof": []}}),
        json.dumps({**proof_for(3), "inclusion": {"tree_size": 1000, "proof": ["AAAA"]}}),
    ],
    # The documents embed signatures from a per-run key: stable ids keep xdist workers agreeing.
    ids=["not-json", "array", "old-format", "future-format", "negative-size", "short-hash"],
)
def test_malformed_input_exits_2_with_one_line_error(
    text: str, tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, public_key_file, text) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("haven-verify: error:")


def test_missing_files_exit_2(tmp_path: Path, public_key_file: Path) -> None:
    proof_path = tmp_path / "proof.json"
    proof_path.write_text(proof_document_to_json(proof_for(1)))
    assert main(["--public-key", str(tmp_path / "absent.pem"), str(proof_path)]) == 2
    assert main(["--public-key", str(public_key_file), str(tmp_path / "absent.json")]) == 2
    not_a_key = tmp_path / "bad.pem"
    not_a_key.write_text("hello")
    assert main(["--public-key", str(not_a_key), str(proof_path)]) == 2


def test_builder_refuses_to_prove_from_an_altered_ledger() -> None:
    rewritten = list(LEAF_HASHES)
    rewritten[5] = LEAF_HASHES[6]
    with pytest.raises(ValueError, match="disagrees"):
        build_proof_document(41, ENTRIES[41], {}, rewritten, CHECKPOINTS)
    with pytest.raises(ValueError, match="leaf hash"):
        build_proof_document(41, ENTRIES[40], {}, LEAF_HASHES, CHECKPOINTS)
    with pytest.raises(ValueError, match="not yet covered"):
        build_proof_document(400, ENTRIES[400], {}, LEAF_HASHES, CHECKPOINTS[:1])


def test_parse_rejects_wrong_shapes() -> None:
    with pytest.raises(MalformedProofError):
        parse_proof_document({**proof_for(1), "extra": True})


# --- the attacks on haven-verify: each exits non-zero and names what is wrong ----------


@pytest.mark.parametrize("field, forged", [("actor", "officer-0"), ("action", "erasure")])
def test_a_forged_readable_field_fails(
    tmp_path: Path,
    public_key_file: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    forged: str,
) -> None:
    document = proof_for(41)
    document["entry"]["fields"][field] = forged
    assert run(tmp_path, public_key_file, document) == 1
    assert f"FAIL readable fields of entry 41 match the hashed entry: {field!r}" in (
        capsys.readouterr().out
    )


def test_a_readable_field_absent_from_the_hashed_entry_fails(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    document["entry"]["fields"]["justification"] = "authorised by the chief constable"
    assert run(tmp_path, public_key_file, document) == 1
    assert "'justification' is not in the hashed entry" in capsys.readouterr().out


def test_a_proof_that_extends_the_trusted_checkpoint_passes(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, public_key_file, proof_for(41), trusted=CHECKPOINTS[0]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("OK proof extends the trusted checkpoint of") for line in lines)
    assert not any(line.startswith("WARN") for line in lines)


def test_a_proof_stripped_of_its_consistency_chain_is_refused(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = proof_for(41)
    document["consistency"] = []
    assert run(tmp_path, public_key_file, document, trusted=CHECKPOINTS[0]) == 1
    assert "carries no consistency chain from the trusted checkpoint" in capsys.readouterr().out


def test_a_rolled_back_ledger_fails_against_the_trusted_checkpoint(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = checkpoint_at(1000)
    document = build_proof_document(
        41, ENTRIES[41], json.loads(ENTRIES[41]), LEAF_HASHES, CHECKPOINTS[:2]
    )
    assert run(tmp_path, public_key_file, document, trusted=newer) == 1
    assert "rolled back" in capsys.readouterr().out


def test_a_forked_ledger_fails_against_the_trusted_checkpoint(
    tmp_path: Path, public_key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The trusted checkpoint saw another history at 300 entries than the one now proven.
    other_history = leaf_hashes_of([entry + b" " for entry in ENTRIES[:300]])
    forked = sign_checkpoint(
        SIGNING_KEY, 300, root_from_leaf_hashes(other_history), "2025-02-01T09:00:00Z"
    )
    assert run(tmp_path, public_key_file, proof_for(41), trusted=forked) == 1
    assert "the ledger forked" in capsys.readouterr().out
