"""The session store (SESSION_ENGINE): Django's database sessions, looked up by a keyed hash.

The cookie carries the session key; the table holds only `session_key_digest(key)`. Reading a
row from a dump or a backup therefore gives nothing that can be sent as a cookie: the hash
cannot be turned back into the key, and the store hashes whatever a cookie presents."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone


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
        return instance

    async def acreate_model_instance(self, data: dict[str, Any]) -> Any:
        instance = await super().acreate_model_instance(data)
        instance.session_key = self.digest(instance.session_key)
        return instance

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=self.digest(session_key)).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is not None:
            await self.model.objects.filter(session_key=self.digest(session_key)).adelete()
