"""`segment` on the Online Retail workbook beside the naive notebook, in turn, in one run.

Usage::

    python -m bench.notebook [--repeats 5] [--workbook PATH] [--before DIR]

Each round runs, in fresh processes and in a rotating order, the naive notebook
(:mod:`bench.naive` with the full silhouette, without t-SNE: the harness's "naive pipeline without
t-SNE") and ``python -m rfm_core segment WORKBOOK -o OUT.csv`` with its defaults; ``--before DIR``
adds the same command run from another checkout (``DIR/rfm_core``, e.g. ``git archive`` of an
older commit), to compare two versions on the same host at the same time. The harness
(:mod:`bench.run`) measures wall time and peak memory from outside; the figures are medians over
the rounds, the ratio is the naive median over ours (and, below it, the median of the ratios of
each round, which a change of load between rounds disturbs less).

The load average is printed at the start and the end: the machine has 2 cores shared with other
work, so compare figures within one run, not across runs. With ``--before``, the labeled CSVs of
both versions are compared byte for byte.

The workbook is the harness's (:mod:`bench.datasets`, made once in ``bench/data/``).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
from pathlib import Path

from bench.datasets import all_datasets, ensure
from bench.run import OUT, Run, load_average, machine, measure


def _commands(workbook: Path, before: Path | None) -> dict[str, tuple[list[str], Path | None]]:
    """Name → (command, working directory; None: this checkout)."""
    python = sys.executable
    runs = {
        "naive": (
            [python, "-m", "bench.naive", str(workbook), "-o", str(OUT / "notebook_naive.csv")],
            None,
        ),
        "ours": (_segment(workbook, OUT / "notebook_ours.csv"), None),
    }
    if before is not None:
        runs["before"] = (_segment(workbook, OUT / "notebook_before.csv"), before)
    return runs


def _segment(workbook: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "rfm_core", "segment", str(workbook.resolve()), "-o", str(output)]


def run_rounds(
    runs: dict[str, tuple[list[str], Path | None]], repeats: int
) -> dict[str, list[Run]]:
    """``repeats`` rounds of every command, the order rotated each round."""
    names = list(runs)
    found: dict[str, list[Run]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            command, cwd = runs[name]
            run = measure(command) if cwd is None else measure(command, cwd=cwd)
            if run.error:
                raise SystemExit(f"{name} failed: {run.error}")
            found[name].append(run)
            print(
                f"  round {round_ + 1} {name}: {run.wall:.2f} s, {run.peak_mb:,.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    return found


def summary(found: dict[str, list[Run]], loads: tuple[str, str], repeats: int) -> str:
    """Markdown: one row per command, the ratios, the machine and the load."""
    labels = {
        "naive": "naive notebook (openpyxl, pandas, scikit-learn), without t-SNE",
        "ours": "`python -m rfm_core segment` (this checkout)",
        "before": "`python -m rfm_core segment` (`--before` checkout)",
    }
    lines = [
        f"Machine: {machine()}; {repeats} rounds; 1-minute load average {loads[0]} at the start, "
        f"{loads[1]} at the end.",
        "",
        "| run | median s | min s | max s | peak MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, runs in found.items():
        walls = [run.wall for run in runs]
        lines.append(
            f"| {labels[name]} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
            f"{max(walls):.2f} | {max(run.peak_mb for run in runs):,.0f} |"
        )
    lines.append("")
    for name in ("ours", "before"):
        if name in found:
            lines.append(f"- naive / {name}: {_ratios(found['naive'], found[name])}")
    return "\n".join(lines)


def _ratios(naive: list[Run], ours: list[Run]) -> str:
    medians = statistics.median(r.wall for r in naive) / statistics.median(r.wall for r in ours)
    paired = statistics.median(a.wall / b.wall for a, b in zip(naive, ours, strict=True))
    return (
        f"**{medians:.1f}×** (ratio of the medians; median of the per-round ratios {paired:.1f}×)"
    )


def same_output(first: Path, second: Path) -> str:
    """Whether two labeled CSVs are byte for byte the same, in words."""
    digests = [hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in (first, second)]
    if digests[0] == digests[1]:
        return f"- labeled CSVs of ours and before: identical (sha256 {digests[0]}…)"
    return f"- labeled CSVs of ours and before: **differ** ({digests[0]}… vs {digests[1]}…)"


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the summary."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.notebook", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=5, help="rounds (fresh processes each)")
    parser.add_argument("--workbook", type=Path, help="the .xlsx (default: the harness's)")
    parser.add_argument("--before", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args(argv)
    dataset = all_datasets(args.workbook)[0]
    ensure(dataset)
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    found = run_rounds(_commands(dataset.path, args.before), args.repeats)
    text = summary(found, (load_before, load_average()), args.repeats)
    if args.before is not None:
        text += "\n" + same_output(OUT / "notebook_ours.csv", OUT / "notebook_before.csv")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
