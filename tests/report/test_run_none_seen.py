"""'No syncs' in a run report says how many steps it rests on and how to see the rest."""

from __future__ import annotations

from netscope.engine.model import RunReport
from netscope.report.run_report import render_run_markdown


def _run(steps: int, sampled: int) -> RunReport:
    return RunReport(
        ("t.py",), "finished", 0, steps, "optimizer.step", None, None, sampled_steps=sampled
    )


def test_no_syncs_in_a_few_sampled_steps_of_many_says_what_can_be_missed() -> None:
    text = render_run_markdown(_run(steps=200, sampled=10))
    assert "No sync points in the 10 sampled step(s) of 200: one made on fewer steps" in text
    assert "No host-device copies in the 10 sampled step(s) of 200" in text
    assert "`netscope run --every 1` records every step." in text


def test_every_step_sampled_is_plain_and_none_sampled_is_not_measured() -> None:
    assert "No sync points in the 40 sampled step(s)." in render_run_markdown(_run(40, 40))
    assert "Not measured: no step was sampled for sync points." in render_run_markdown(_run(40, 0))
