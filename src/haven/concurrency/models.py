from __future__ import annotations

from django.db import models


class ReferenceCounter(models.Model):
    """The last number handed out in a reference series: a scope (``HVN``, ``CMP``...) and year.

    Writers lock the row (``SELECT ... FOR UPDATE``) inside their own transaction, so two
    concurrent writers queue on it instead of both reading the same ``count()`` or ``max()``.
    """

    scope = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "year"], name="reference_counter_series")
        ]

    def __str__(self) -> str:
        return f"{self.scope}-{self.year}: {self.last}"
