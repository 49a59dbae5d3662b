"""A theory check's record as the Markdown card of the theory notebook: claim, reading, verdict, numbers, next step.

The card is built from a judged record (``theory_checks.record.CheckRecord``) and its key-number table
lines, both passed in by the notebook, so this module imports no check (lsgdsim/ sits below
theory_checks/). :data:`NEXT` says, per check, what to try after reading its verdict.
"""
from __future__ import annotations

import sys

NEXT = {
    "one-step": "Raise η just above the exact threshold 1/(λ + M²/(2M − m)) in the check's setting: the "
                "inequality starts to fail, which is what separates the stated condition from 'η ≤ 1/M'.",
    "rate": "Change the constant a of η_t = a/(b + t) so that a·m < 1/2: the tail slope is no longer −1.",
    "stochastic-leader": "Raise the leader noise σ_f or p in the landscapes notebook (leader noise) and compare "
                         "the measured excess with the (4/m)λ√p σ_f bound printed above.",
    "stationary-points": "Run the double well in the landscapes notebook with EASGD and LSGD: EASGD's workers "
                         "stop where f′ ≠ 0, LSGD's leader at a true stationary point.",
    "newton-alignment": "Look at the cells of the figure where it fails (small angle, larger λ) and run the full "
                        "check (`lsgdsim check --only newton-alignment`) for the finer grid.",
    "curse-of-symmetry": "In the landscapes notebook pick 'ring' and compare EASGD with LSGD (pull 0.1–0.5): "
                         "averaging pulls the workers toward the central maximum.",
    "leader-stickiness": "Run Rastrigin with noise in the landscapes notebook and count the leader switches; "
                         "then `lsgdsim check --only leader-stickiness --leader random`.",
    "comm-period": "Raise τ in the landscapes notebook with λ fixed per communication: a large τ is close to "
                   "no communication at all.",
}


class Without:
    """A text stream passing on whole lines as they come, except those starting with ``prefix`` (e.g. the
    "wrote …" lines about temporary files a notebook deletes); to ``target`` (default: sys.stdout now)."""

    def __init__(self, prefix: str, target=None):
        self.prefix, self.target, self.pending = prefix, target, ""

    def _out(self):
        return self.target if self.target is not None else sys.stdout

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if not line.startswith(self.prefix):
                self._out().write(line + "\n")
        self._out().flush()
        return len(text)

    def flush(self) -> None:
        """Write out a last line that has no newline yet (unless it is one to leave out)."""
        if self.pending and not self.pending.startswith(self.prefix):
            self._out().write(self.pending)
        self.pending = ""


def next_step(name: str) -> str:
    """What to try after check ``name`` (a default pointing at the full run and the leader controls)."""
    return NEXT.get(name, f"Run it at full size (`lsgdsim check --only {name}`), and with `--leader worst` to "
                          "see whether the verdict depends on choosing the right leader.")


def card(record, key_table: list[str] = (), caption: str = "") -> str:
    """Markdown for one judged record: claim, reading tested, verdict and summary, key numbers, what to try next.

    ``key_table`` is the Markdown lines of its key numbers (``theory_checks.report.key_table``),
    ``caption`` what its figure shows."""
    seconds = record.elapsed_s if record.elapsed_s is not None else float("nan")
    lines = [f"### {record.name}", "", f"**Claim.** {record.claim}", "", f"**Reading tested.** {record.reading}",
             "", f"**Verdict: {record.verdict}** ({record.meta.get('mode', '?')} run, {seconds:.1f} s). "
             f"{record.summary}", ""]
    if key_table:
        lines += [*key_table, ""]
    if caption:
        lines += [f"*Figure.* {caption}", ""]
    lines += [f"**Try next.** {next_step(record.name)}"]
    return "\n".join(lines)
