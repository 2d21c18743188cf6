"""Every benchmark script starts the way bench/README.md runs it: `.venv/bin/python bench/<name>.py`.

Run that way, Python puts bench/ first on `sys.path`, so a script named like one of the platform's
packages (`campaigns`, `points`, ...) shadows that package for every module the benches import, the
launcher's demo included, and the script dies on a circular import before it measures anything. The
benches run on demand, not in CI: this runs each with `--help`, which imports all it imports at the
top and parses its arguments, and would otherwise go unnoticed until someone needs the figures.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(path for path in BENCH.glob("*.py") if not path.name.startswith("_"))
PACKAGES = {"shared", "members", "points", "campaigns", "feedback", "gateway", "crm_cli"}


def test_there_are_benchmarks_and_none_is_named_like_a_package() -> None:
    assert len(SCRIPTS) >= 10, SCRIPTS
    assert not {path.stem for path in SCRIPTS} & PACKAGES


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_a_benchmark_starts_and_explains_its_options(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120,
                          cwd=BENCH.parent, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: "), done.stdout
