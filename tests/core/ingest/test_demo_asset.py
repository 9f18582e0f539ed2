"""The shipped demo log is exactly what the generator makes (so it can be regenerated)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "assets" / "demo_transactions.csv"


def test_demo_asset_is_reproducible(tmp_path: Path) -> None:
    regenerated = tmp_path / "demo.csv"
    subprocess.run(
        [sys.executable, "-m", "rfm_core", "demo", "-o", str(regenerated)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    assert regenerated.read_bytes() == DEMO.read_bytes()


def test_demo_asset_is_small() -> None:
    assert DEMO.stat().st_size < 5 * 1024 * 1024
