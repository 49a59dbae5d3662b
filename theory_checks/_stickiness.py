"""Switching statistics of a leader series and the stranding measures of the leader-stickiness check."""
from __future__ import annotations

import numpy as np
from scipy import stats

PAPER_COUNTS = np.array([34, 38, 48, 62])   # digest §4.2, 4 workers, ResNet20 / CIFAR-10
RESOLUTION = 1e-12                           # exact rules: relative score spread below this is rounding


def leader_stats(leader_ids, workers: int) -> dict:
    """Switching statistics of a leader series (C,) of worker indices."""
    ids = np.asarray(leader_ids, dtype=int)
    C = len(ids)
    counts = np.bincount(ids, minlength=workers)
    share = counts / max(C, 1)
    change = np.flatnonzero(np.diff(ids)) + 1
    runs = np.diff(np.concatenate([[0], change, [C]])) if C else np.zeros(0, dtype=int)
    nz = share[share > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(workers)) if workers > 1 else 1.0
    chi2, chi2_p = stats.chisquare(counts) if C else (np.nan, np.nan)
    return {"communications": C, "counts": counts.tolist(), "share": share.round(4).tolist(),
            "max_share": float(share.max()) if C else np.nan, "min_share": float(share.min()) if C else np.nan,
            "longest_run": int(runs.max()) if C else 0, "longest_run_fraction": float(runs.max() / C) if C else 0.0,
            "mean_run": float(runs.mean()) if C else 0.0, "switches": int(len(runs) - 1),
            "workers_who_led": int((counts > 0).sum()), "normalized_entropy": entropy,
            "chi2": float(chi2), "chi2_p_iid": float(chi2_p)}


def paper_reference() -> dict:
    """The statistics of the paper's leader-switching figure (counts; longest run ≈ 10 read off the plot)."""
    out = leader_stats(np.repeat(np.arange(4), PAPER_COUNTS), 4)
    out.update(longest_run=10, longest_run_fraction=10 / PAPER_COUNTS.sum(), mean_run=None, switches=None)
    return out


def resolved_leaders(res, exact: bool) -> np.ndarray:
    """The leader series, without selections an exact rule made among scores equal up to rounding.

    A deterministic LGD run collapses the workers onto one point; once the spread of their values is at the
    level of floating-point rounding, argmin is decided by rounding and says nothing about stickiness.
    Needs ``record_every = 1`` (record t − 1 holds f at step t − 1, the scores of the selection at t).
    """
    if not exact:
        return res.leaders
    scores = res.f[res.leader_steps - 1]
    spread = scores.max(axis=1) - scores.min(axis=1)
    return res.leaders[spread > RESOLUTION * (1.0 + np.abs(scores).max(axis=1))]


def stranding(res, sgd_res=None) -> dict:
    """Non-leader distance to the best worker (last quarter vs start); with an SGD reference run
    (Rastrigin), the basin mismatch and the non-leaders' final f against independent SGD workers."""
    D = res.dist_to_leader                      # (R, p), 0 for the best worker
    p = D.shape[1]
    nonleader = D.sum(axis=1) / (p - 1)         # mean over the p − 1 others
    tail = nonleader[-max(1, len(nonleader) // 4):].mean()
    out = {"nonleader_dist_start": float(nonleader[0]), "nonleader_dist_end": float(tail),
           "nonleader_dist_ratio": float(tail / nonleader[0]) if nonleader[0] > 0 else np.nan}
    if sgd_res is not None:
        best = int(np.argmin(res.final_f))
        others = np.delete(np.arange(p), best)
        cells = np.round(res.x)
        out["other_basin_fraction"] = float(np.mean(np.any(cells[others] != cells[best], axis=1)))
        out["nonleader_final_f"] = float(res.final_f[others].mean())
        out["leader_final_f"] = float(res.final_f[best])
        out["sgd_mean_final_f"] = float(sgd_res.final_f.mean())
    return out
