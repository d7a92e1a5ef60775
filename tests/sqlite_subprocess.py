"""Django commands and scripts in a subprocess against a SQLite file, with the test settings
(fixed keys): how the SQLite file scans run the product, as it runs in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_test_env(data_dir: Path, database: Path) -> dict[str, str]:
    return {
        **{name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG")},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "haven.settings_test",
        "HAVEN_DATA_DIR": str(data_dir),
        "HAVEN_DATABASE_URL": f"sqlite:///{database}",
    }


def run_python(env: dict[str, str], *args: str) -> None:
    """`python ARGS` to completion, or the test fails with the end of its error output."""
    done = subprocess.run(  # noqa: S603 - the test's own command line
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


def migrate_test_sqlite(folder: Path) -> None:
    """`django migrate` from zero into folder/haven.sqlite3."""
    env = settings_test_env(folder, folder / "haven.sqlite3")
    run_python(env, "-m", "django", "migrate", "--no-input", "-v", "0")
