"""Support ids (ASVS 4.0.3 7.4.1): every error page and API problem shows a short random id,
and the server log line for that error carries the same id, so support can find what
happened without the answer saying anything more than "something went wrong"."""

from __future__ import annotations

import logging
import secrets

from django.http import HttpRequest

logger = logging.getLogger("haven.errors")

# Crockford base32 (no I, L, O, U): read over the phone without confusion.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ATTRIBUTE = "_haven_support_id"


def support_id(request: HttpRequest, status: int) -> str:
    """The id of this request's error, made and logged once (a handler may ask twice). 40
    random bits: unique enough to find one line, and it says nothing about the request."""
    existing: str | None = getattr(request, _ATTRIBUTE, None)
    if existing:
        return existing
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    made = f"{raw[:4]}-{raw[4:]}"
    setattr(request, _ATTRIBUTE, made)
    # Inside an except block (the 500 handlers) the traceback goes on the same line's record.
    logger.log(
        logging.ERROR if status >= 500 else logging.WARNING,
        "support id %s: %s %s answered %d",
        made,
        request.method,
        request.path,
        status,
        exc_info=status >= 500,
    )
    return made
