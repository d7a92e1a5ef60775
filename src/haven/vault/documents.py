"""Uploaded documents, whichever domain holds them: the allowed types, the size limit, the
content check and the encrypted storage of the bytes (the vault's blob store).

A domain keeps its own document model (bound to what owns it, ``blob_aad``) and its own ledger
entry; what is checked and how the bytes are sealed is the same everywhere, so it lives here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from haven.vault import blobs

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from haven.vault.models import SealedDocument

# A size limit and an allow-list of types detected from the content (filetype).
DOCUMENT_MAX_BYTES: int = settings.HAVEN_DOCUMENT_MAX_BYTES
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
}
ALLOWED_HINT = "PDF, PNG, JPEG, DOCX or ODT, up to 10 MB; the type is checked from the content"


def too_large_message(max_bytes: int) -> str:
    return f"The file must be smaller than {max_bytes // 2**20} MB"


def detect_type(data: bytes, filename: str) -> str:
    """The content type found in ``data``; ValidationError on ``file`` if it is not allowed or
    the name's extension says something else."""
    import filetype

    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in DOCUMENT_TYPES:
        allowed = ", ".join(sorted({e for exts in DOCUMENT_TYPES.values() for e in exts}))
        raise ValidationError({"file": f"The file must be one of: {allowed} (checked by content)"})
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in DOCUMENT_TYPES[kind.mime]:
        raise ValidationError(
            {
                "file": f"The file is not what its name says: its content is {kind.extension}, "
                f"not {extension or 'unnamed'}"
            }
        )
    return str(kind.mime)


def size_error(data: bytes, max_bytes: int | None = None) -> str | None:
    """The ``file`` field error for empty or over-size content, or None."""
    limit = DOCUMENT_MAX_BYTES if max_bytes is None else max_bytes
    if not data:
        return "Choose a file to upload"
    if len(data) > limit:
        return too_large_message(limit)
    return None


def read_upload(upload: UploadedFile, max_bytes: int | None = None) -> bytes:
    """An uploaded file's content; a ValidationError on ``file`` instead, before anything is
    read into memory, if it is larger than the limit."""
    limit = DOCUMENT_MAX_BYTES if max_bytes is None else max_bytes
    if upload.size is not None and upload.size > limit:
        raise ValidationError({"file": too_large_message(limit)})
    content: bytes = upload.read()
    return content


def clean_filename(filename: str) -> str:
    return (filename or "").strip().replace("/", "_")[-200:]


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    size: int
    sha256: str

    def model_fields(self) -> dict[str, Any]:
        """The document row's fields this check found (``SealedDocument``)."""
        return asdict(self)


def check_upload(data: bytes, filename: str) -> CheckedUpload:
    """Name, type, size and digest of content already within the size limit."""
    filename = clean_filename(filename)
    return CheckedUpload(
        filename=filename,
        content_type=detect_type(data, filename),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def seal(data: bytes, aad: bytes) -> str:
    """Encrypt and store the bytes bound to their owner (``aad``); the new blob id."""
    return blobs.store_blob(data, aad)


def open_sealed(blob_id: str, aad: bytes) -> bytes:
    return blobs.read_blob(blob_id, aad)


def discard(blob_id: str) -> None:
    """Remove a blob whose row was never saved (the write failed)."""
    blobs.delete_blob(blob_id)


def store_sealed(document: SealedDocument, data: bytes, record: Callable[[], object]) -> None:
    """Seal ``data`` bound to the new ``document``, insert its row and write its ledger entry
    (``record``, in the caller's transaction); if any of it fails the blob is removed, so a
    failed upload leaves nothing behind."""
    document.blob_id = seal(data, document.blob_aad())
    try:
        document.save(force_insert=True)
        record()
    except BaseException:
        discard(document.blob_id)
        raise
