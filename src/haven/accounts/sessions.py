"""The session store (SESSION_ENGINE): Django's database sessions, looked up by a keyed hash.

The cookie carries the session key; the table holds only `session_key_digest(key)`. Reading a
row from a dump or a backup therefore gives nothing that can be sent as a cookie: the hash
cannot be turned back into the key, and the store hashes whatever a cookie presents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

# Session data keys (set at sign-in and by the guard; see middleware.py and views.py).
DEVICE = "haven_device"
SIGNED_IN_AT = "haven_signed_in_at"
LAST_SEEN = "haven_last_seen"

_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/"),
    ("Firefox", r"(Firefox|FxiOS)/"),
    ("Chrome", r"(Chrome|CriOS)/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
)


def describe_user_agent(user_agent: str) -> str:
    """A person's words for a browser: "Firefox on Windows"; "Unknown browser" otherwise."""
    browser = next((name for name, p in _BROWSERS if re.search(p, user_agent)), None)
    system = next((name for name, p in _SYSTEMS if re.search(p, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Unknown browser")


def _moment(data: dict[str, Any], key: str) -> dt.datetime | None:
    value = data.get(key)
    return dt.datetime.fromtimestamp(value, tz=dt.UTC) if isinstance(value, int) else None


def _describe(instance: Any, data: dict[str, Any]) -> Any:
    """Copy who holds the session, on what and since when from its data into the row."""
    user_id = data.get("_auth_user_id")
    signed_in_at = _moment(data, SIGNED_IN_AT)
    instance.user_id = int(user_id) if user_id is not None and signed_in_at else None
    instance.device = str(data.get(DEVICE, ""))[:120]
    instance.signed_in_at = signed_in_at
    instance.last_seen_at = _moment(data, LAST_SEEN) or signed_in_at
    return instance


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from .models import HashedSession

        return HashedSession

    @staticmethod
    def digest(session_key: str) -> str:
        from .models import session_key_digest

        return session_key_digest(session_key)

    def _get_session_from_db(self) -> Any:
        try:
            return self.model.objects.get(
                session_key=self.digest(self.session_key or ""),
                expire_date__gt=timezone.now(),
            )
        except (self.model.DoesNotExist, SuspiciousOperation):
            self._session_key = None
            return None

    async def _aget_session_from_db(self) -> Any:
        try:
            return await self.model.objects.aget(
                session_key=self.digest(self.session_key or ""),
                expire_date__gt=timezone.now(),
            )
        except (self.model.DoesNotExist, SuspiciousOperation):
            self._session_key = None
            return None

    def exists(self, session_key: str) -> bool:
        return bool(self.model.objects.filter(session_key=self.digest(session_key)).exists())

    async def aexists(self, session_key: str) -> bool:
        return bool(await self.model.objects.filter(session_key=self.digest(session_key)).aexists())

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance = super().create_model_instance(data)
        instance.session_key = self.digest(instance.session_key)
        return _describe(instance, data)

    async def acreate_model_instance(self, data: dict[str, Any]) -> Any:
        instance = await super().acreate_model_instance(data)
        instance.session_key = self.digest(instance.session_key)
        return _describe(instance, data)

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=self.digest(session_key)).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            await self.model.objects.filter(session_key=self.digest(session_key)).adelete()
