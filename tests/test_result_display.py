"""What a reader sees of a run: a one-line repr, not thousands of numbers (issue 24, item 6)."""
from __future__ import annotations

from lsgdsim import Result, algorithms, objectives, simulate
from theory_checks.runner import _count


def test_the_repr_of_a_long_run_is_one_short_line(tmp_path):
    res = simulate(objectives.Quadratic.random(dim=20, cond=10.0, seed=0), algorithms.LSGD(lr=0.05, pull=0.1),
                   workers=8, steps=2000)
    text = repr(res)
    assert "\n" not in text and len(text) < 400
    assert "lsgd on quadratic" in text and "2000 steps" in text and "x (8, 20)" in text
    assert repr(Result.load(res.save(tmp_path / "r.npz"))) == text


def test_counts_are_said_in_the_singular_for_one():
    assert _count(1, "figure") == "1 figure" and _count(3, "record") == "3 records"
    assert _count(0, "figure") == "0 figures"


def test_training_summaries_print_plain_accuracies_and_no_leader_fields_without_a_leader():
    from lsgdsim.algorithms import SGD
    from lsgdsim.nn.train import summarize, train
    res = train("mlp", "digits", SGD(lr=0.05), workers=2, steps=4, batch_size=16, seed=1, evaluations=2,
                dtype="float32")
    s = summarize(res)
    for key in ("test_accuracy", "mean_worker_test_accuracy", "best_worker_test_accuracy"):
        hits = s[key] * 720                                 # 360 test images; the mean of 2 workers halves them
        assert abs(hits - round(hits)) < 1e-9, s[key]       # an exact fraction, not float32's 0.0972222238779068
    assert "leader_test_accuracy" not in s and "leader_share" not in s


def test_a_reused_check_is_marked_not_shown_with_an_old_time(tmp_path):
    import subprocess
    import sys

    from theory_checks.report import terminal_row
    row = terminal_row("rate", "holds", "reused", "summary", 80)
    timed = terminal_row("rate", "holds", 12.0, "summary", 80)
    assert row.split()[2] == "reused" and row.index("summary") == timed.index("summary")      # the same columns
    cmd = [sys.executable, "-m", "lsgdsim", "check", "--quick", "--only", "saddle-escape", "--report", "rep",
           "--no-progress"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run([*cmd, "--resume"], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert [line.split()[2] for line in out.splitlines() if line.startswith("saddle-escape")] == ["reused"]
    assert "s when it was measured (reused by this run)" in (tmp_path / "rep" / "report.md").read_text()
