"""Demo data for rotas lives with the equipment demo (one function sets up both)."""

from __future__ import annotations

from haven.equipment.demo import create_demo_operations

__all__ = ["create_demo_operations"]
