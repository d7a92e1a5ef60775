"""haven-witness: a C2SP tlog-witness that cosigns Haven's ledger checkpoints.

A witness remembers, per log origin, the size and root of the last checkpoint it cosigned, and
cosigns a new checkpoint only with a valid RFC 6962 consistency proof from that one.  A DBA who
rewrites history and re-signs it with the stolen log key cannot get the rewritten checkpoints
cosigned: the witness answers 409 (its size, when the log claims another) or 422
("inconsistent: ...", when the proof fails).  Standalone on purpose: standard library,
``cryptography`` and the pure modules ``haven.audit.note`` / ``haven.audit.merkle``; no Django,
no database, one small JSON state file per origin.

    haven-witness init-key --key witness.pem [--if-missing]
    haven-witness public-key --key witness.pem --name NAME      # vkey for HAVEN_LEDGER_WITNESSES
    haven-witness serve --key witness.pem --name NAME --state-dir DIR \\
        --log-key VKEY [--log-key VKEY ...] [--host 127.0.0.1] [--port 8009]

``--log-key`` is the log's vkey (``haven audit public-key --vkey``); its name is the origin.
Protocol (POST /add-checkpoint): request "old N", consistency proof lines, an empty line, the
checkpoint note; 200 with cosignature lines, 400 malformed, 403 no valid log signature,
404 unknown origin, 409 ``text/x.tlog.size`` with the witness's size, 422 bad proof.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.audit import note
from haven.audit.merkle import verify_consistency

MAX_REQUEST_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class LogState:
    size: int
    root_hash: bytes


class StateStore:
    """One JSON file per origin: {"origin", "size", "root_hash"}; replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, origin: str) -> Path:
        return self.directory / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".json")

    def load(self, origin: str) -> LogState | None:
        try:
            data = json.loads(self.path(origin).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return LogState(int(data["size"]), base64.b64decode(data["root_hash"]))

    def save(self, origin: str, state: LogState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "origin": origin,
            "size": state.size,
            "root_hash": base64.b64encode(state.root_hash).decode("ascii"),
        }
        # Write, fsync, rename: a crash leaves the old state or the new, never half of one.
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path(origin))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Request:
    old_size: int
    proof: list[bytes]
    checkpoint: note.Note
    body: note.CheckpointBody


class BadRequest(ValueError):
    pass


def parse_request(data: bytes) -> Request:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request is not UTF-8") from None
    header, separator, checkpoint_note = text.partition("\n\n")
    lines = header.split("\n")
    if not separator or not lines[0].startswith("old "):
        raise BadRequest('the request starts with "old N", proof lines and an empty line')
    size_text = lines[0][4:]
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (size_text != "0" and size_text[0] == "0")
    ):
        raise BadRequest("the old size is a decimal without leading zeros")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadRequest(f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof = [note.strict_base64(line, "consistency proof line") for line in lines[1:]]
    if any(len(node) != 32 for node in proof):
        raise BadRequest("consistency proof lines are 32-byte hashes")
    try:
        parsed = note.parse_note(checkpoint_note)
        body = note.parse_checkpoint_text(parsed.text)
    except note.NoteError as error:
        raise BadRequest(f"malformed checkpoint: {error}") from None
    return Request(int(size_text), proof, parsed, body)


class Witness:
    """The checks and the state; the HTTP server only moves bytes in and out."""

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        log_keys: Sequence[note.VerifierKey],
        state: StateStore,
        clock: object = time.time,
    ) -> None:
        note.check_key_name(name)
        self.name = name
        self.private_key = private_key
        self.log_keys: dict[str, list[note.VerifierKey]] = {}
        for key in log_keys:
            self.log_keys.setdefault(key.name, []).append(key)
        self.state = state
        self.clock = clock
        self._lock = threading.Lock()  # check-and-persist is atomic (tlog-witness race)

    def vkey(self) -> str:
        return note.verifier_key(
            self.name, note.ALGORITHM_COSIGNATURE_V1, self.private_key.public_key()
        )

    def add_checkpoint(self, data: bytes) -> Answer:
        try:
            request = parse_request(data)
        except (BadRequest, note.NoteError) as error:
            return Answer(400, f"bad request: {error}\n")
        body = request.body
        keys = self.log_keys.get(body.origin)
        if keys is None:
            return Answer(404, f"unknown log origin {body.origin!r}\n")
        refusal = self._check_log_signature(request.checkpoint, keys)
        if refusal is not None:
            return refusal
        if request.old_size > body.tree_size:
            return Answer(
                400,
                f"old size {request.old_size} is larger than the checkpoint's {body.tree_size}\n",
            )
        with self._lock:
            known = self.state.load(body.origin) or LogState(0, b"")
            refusal = self._check_consistency(request, known)
            if refusal is not None:
                return refusal
            self.state.save(body.origin, LogState(body.tree_size, body.root_hash))
        timestamp = int(self.clock())  # type: ignore[operator]
        cosignature = note.cosign(body.text(), self.name, self.private_key, timestamp)
        return Answer(200, cosignature.line())

    def _check_log_signature(
        self, checkpoint: note.Note, keys: Sequence[note.VerifierKey]
    ) -> Answer | None:
        """403 unless some signature line is a valid one by a trusted key of the origin; a
        line that names a trusted key but does not verify makes the note malformed (403)."""
        valid = False
        for signature in checkpoint.signatures:
            for key in keys:
                if (signature.name, signature.key_hash) != (key.name, key.key_hash):
                    continue
                if not note.verify_note_signature(checkpoint.text, signature, key):
                    return Answer(403, "invalid log signature: the checkpoint was altered\n")
                valid = True
        if not valid:
            return Answer(403, "no signature by a trusted key of this log\n")
        return None

    def _check_consistency(self, request: Request, known: LogState) -> Answer | None:
        body = request.body
        if request.old_size != known.size:
            print(
                f"haven-witness: 409 for {body.origin}: the log says I cosigned size "
                f"{request.old_size}, I cosigned {known.size} (rollback, fork or lost state)",
                file=sys.stderr,
            )
            return Answer(409, f"{known.size}\n", SIZE_CONTENT_TYPE)
        if request.old_size == body.tree_size:
            if known.size and body.root_hash != known.root_hash:
                print(
                    f"haven-witness: 409 for {body.origin}: a different root for size "
                    f"{body.tree_size} (fork)",
                    file=sys.stderr,
                )
                return Answer(409, f"{known.size}\n", SIZE_CONTENT_TYPE)
            return None
        if request.old_size == 0:
            if request.proof:
                return Answer(422, "inconsistent: a proof from size 0 must be empty\n")
            return None
        if not verify_consistency(
            known.size, body.tree_size, known.root_hash, body.root_hash, request.proof
        ):
            old_root = base64.b64encode(known.root_hash).decode("ascii")
            return Answer(
                422,
                f"inconsistent: the checkpoint of size {body.tree_size} does not extend the "
                f"checkpoint of size {known.size} (root {old_root}) I cosigned: the log "
                "forked or rewrote its history\n",
            )
        return None


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "haven-witness"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                self._answer(Answer(404, "only POST /add-checkpoint is served\n"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_REQUEST_BYTES:
                self._answer(Answer(400, f"the body must be 1 to {MAX_REQUEST_BYTES} bytes\n"))
                return
            self._answer(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802
            self._answer(Answer(200, witness.vkey() + "\n"))

        def _answer(self, answer: Answer) -> None:
            payload = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            print(f"haven-witness: {self.address_string()} {format % args}", file=sys.stderr)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


# --- keys and command line --------------------------------------------------------------------


class WitnessError(Exception):
    """Reported on one line; exit status 2."""


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise WitnessError(f"cannot read witness key {path}: {error.strerror}") from None
    except (ValueError, TypeError) as error:
        raise WitnessError(f"witness key {path} is not an unencrypted PEM key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"witness key {path} is not an Ed25519 key")
    return key


def init_key(path: Path, if_missing: bool) -> str:
    if path.exists():
        if not if_missing:
            raise WitnessError(f"witness key {path} already exists: refusing to overwrite")
        load_private_key(path)
        return f"witness key {path} already exists, kept"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return f"witness key {path} already exists, kept"
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return f"created witness key {path} (mode 0600)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="haven-witness", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = commands.add_parser("init-key", help="create the witness's Ed25519 key (0600)")
    init.add_argument("--key", required=True, type=Path)
    init.add_argument("--if-missing", action="store_true", help="keep an existing key")
    public = commands.add_parser("public-key", help="print the witness's vkey")
    public.add_argument("--key", required=True, type=Path)
    public.add_argument("--name", required=True, help="witness name, e.g. witness.example/w1")
    serve = commands.add_parser("serve", help="answer add-checkpoint requests")
    serve.add_argument("--key", required=True, type=Path)
    serve.add_argument("--name", required=True)
    serve.add_argument("--state-dir", required=True, type=Path)
    serve.add_argument(
        "--log-key", action="append", required=True, metavar="VKEY", help="a log's vkey"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8009)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "init-key":
            print(init_key(arguments.key, arguments.if_missing))
            return 0
        key = load_private_key(arguments.key)
        if arguments.command == "public-key":
            print(
                note.verifier_key(arguments.name, note.ALGORITHM_COSIGNATURE_V1, key.public_key())
            )
            return 0
        log_keys = [_log_key(text) for text in arguments.log_key]
        witness = Witness(arguments.name, key, log_keys, StateStore(arguments.state_dir))
        server = make_server(witness, arguments.host, arguments.port)
    except (WitnessError, note.NoteError, OSError) as error:
        print(f"haven-witness: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    print(
        f"haven-witness {witness.vkey()} on http://{arguments.host}:{server.server_port}",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _log_key(text: str) -> note.VerifierKey:
    key = note.parse_verifier_key(text)
    if key.algorithm != note.ALGORITHM_ED25519:
        raise WitnessError(f"log key {key.name} is not an Ed25519 note key (0x01)")
    return key


if __name__ == "__main__":
    sys.exit(main())
