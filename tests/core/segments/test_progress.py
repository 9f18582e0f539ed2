"""The progress reporters of the long optional analyses."""

from __future__ import annotations

import pytest

from rfm_core.segments.progress import part_of, reporter


def test_a_missing_reporter_hears_nothing() -> None:
    assert reporter(None)(0.5, "half") is None
    heard: list = []
    listen = reporter(lambda done, text: heard.append((done, text)))
    listen(0.25, "a quarter")
    assert heard == [(0.25, "a quarter")]


def test_a_step_reports_its_share_of_the_whole() -> None:
    heard: list = []
    second_half = part_of(lambda done, text: heard.append((done, text)), 0.5, 1.0)
    for done in (-1.0, 0.0, 0.5, 1.0, 2.0):  # outside 0..1: held at the step's ends
        second_half(done, "step")
    assert [done for done, _ in heard] == pytest.approx([0.5, 0.5, 0.75, 1.0, 1.0])
    assert {text for _, text in heard} == {"step"}
