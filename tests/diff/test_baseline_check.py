"""``netscope check TARGET --baseline base.json`` with each gate, passing and failing, on real
model files profiled by the real worker (``main()`` in-process, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netscope.cli import main
from tests.diff.models import cnn_file, save_report

SYNC = "_ = x.sum().item()  # the sync"
TIME = ("--time-budget", "0.5")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("baseline")
    model = cnn_file(folder, "a.py")
    assert main(["report", model, "--profile", *TIME, "-o", str(folder / "base.json")]) == 0
    return folder, str(folder / "base.json")


def test_every_gate_fails_naming_the_blocks_and_lines(baseline, capsys):
    folder, base = baseline
    grown = cnn_file(folder, "b.py", wider=True, extra=f"time.sleep(0.4)\n        {SYNC}")
    code = main(["check", grown, *TIME, "--baseline", base, "--max-params-growth", "5",
                 "--max-flops-growth", "5", "--max-peak-growth", "1", "--max-slowdown", "10",
                 "--no-new-syncs"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    # other processes busy on the CPUs while either side was timed: the slowdown is not judged
    contended = "not judged: other processes kept the CPUs busy" in out
    assert f"FAILED against the baseline: {4 if contended else 5} violation(s)" in out
    assert "--max-params-growth 5%; blocks: conv2, head" in out
    assert "--max-flops-growth 5%; blocks: conv2" in out
    assert "> --max-peak-growth 1%" in out
    if not contended:
        assert "cpu time +" in out and "(p10..p90 ranges apart) > --max-slowdown 10%" in out
    line = next(n for n, text in enumerate(Path(grown).read_text().splitlines(), 1) if SYNC in text)
    assert f".item() at {grown}:{line}" in out or f"b.py:{line}" in out


def test_the_same_model_passes_every_gate(baseline, capsys):
    folder, base = baseline
    code = main(["check", str(folder / "a.py"), *TIME, "--baseline", base,
                 "--max-params-growth", "0", "--max-flops-growth", "0", "--max-peak-growth", "5",
                 "--max-slowdown", "100", "--no-new-syncs"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK: within the baseline's limits" in out
    assert "params: " in out and "(=)" in out


def _verdicts(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("OK", "FAILED", "within"))]


def test_within_its_limits_but_over_the_baseline_no_verdict_reads_ok(baseline, capsys):
    """The limits pass, the baseline fails: the first verdict a reader meets says FAILED."""
    folder, base = baseline
    grown = cnn_file(folder, "wider.py", wider=True)
    code = main(["check", grown, *TIME, "--max-syncs", "10", "--baseline", base,
                 "--max-params-growth", "0"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    verdicts = _verdicts(out)
    assert verdicts[0].startswith("FAILED against the baseline"), out
    assert not any(line.startswith("OK") for line in verdicts), out
    assert "FAILED against the baseline: 1 violation(s)" in out


def test_over_its_limits_but_within_the_baseline_no_verdict_reads_ok(baseline, capsys):
    folder, base = baseline
    code = main(["check", str(folder / "a.py"), *TIME, "--max-peak-memory", "1",
                 "--baseline", base, "--max-params-growth", "0"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    verdicts = _verdicts(out)
    assert verdicts[0] == "FAILED: 1 violation(s)", out
    assert not any(line.startswith("OK") for line in verdicts), out


def test_a_gate_the_baseline_cannot_answer_fails(baseline, capsys):
    folder, _ = baseline
    unprofiled = save_report(str(folder / "a.py"), folder / "unprofiled.json")
    code = main(["check", str(folder / "a.py"), *TIME, "--baseline", unprofiled,
                 "--max-slowdown", "10", "--no-new-syncs"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "--max-slowdown cannot be checked" in out and "--no-new-syncs cannot be checked" in out


def test_a_gate_without_a_baseline_is_a_usage_error(baseline, capsys):
    folder, _ = baseline
    assert main(["check", str(folder / "a.py"), "--max-slowdown", "10"]) == 2
    assert "need --baseline FILE" in capsys.readouterr().err
    assert main(["check", str(folder / "a.py"), "--baseline", str(folder / "none.json"),
                 "--max-slowdown", "10"]) == 2  # fmt: skip
    assert "no such report" in capsys.readouterr().err


def test_a_meta_check_gates_against_a_cpu_baseline_forward_to_forward(baseline, capsys):
    """On meta no backward runs: the FLOPs gate compares the forward of both, not a forward
    with a forward + backward (which would read as a 2/3 shrink)."""
    folder, base = baseline
    code = main(["check", str(folder / "a.py"), "--device", "meta", "--baseline", base,
                 "--max-flops-growth", "0", "--max-params-growth", "0"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "step FLOPs: " in out and "(=)" in out.split("step FLOPs: ")[1].splitlines()[0]
