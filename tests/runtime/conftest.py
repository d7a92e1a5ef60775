from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..built_once import built_once
from .processes import HavenUp, copy_data_dir, haven, prepare_data_dir


@pytest.fixture(scope="session")
def prepared_data_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Keys and a migrated SQLite database, made once per test run by the product's commands."""
    return built_once(tmp_path_factory, worker_id, "haven-template", prepare_data_dir)


@pytest.fixture
def data_dir(prepared_data_dir: Path, tmp_path: Path) -> Path:
    return copy_data_dir(prepared_data_dir, tmp_path / "data")


@pytest.fixture(scope="session")
def demo_template(
    prepared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """The prepared data directory with the demo's accounts and on-call rota (one case and one
    complaint: the demo's casework is not what the runtime tests are about), made once per run
    by `haven demo`."""

    def build(folder: Path) -> None:
        shutil.copytree(prepared_data_dir, folder, dirs_exist_ok=True)
        haven(folder, "demo", "--cases", "1", "--complaints", "1")

    return built_once(tmp_path_factory, worker_id, "haven-demo-template", build)


@pytest.fixture
def demo_data_dir(demo_template: Path, tmp_path: Path) -> Path:
    return copy_data_dir(demo_template, tmp_path / "data")


@pytest.fixture
def haven_up(data_dir: Path) -> Iterator[HavenUp]:
    up = HavenUp(data_dir)
    try:
        yield up.start()
    finally:
        up.stop()
