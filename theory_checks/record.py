"""The common record of a theory check (PEPit-style: measured vs theoretical, and a verdict)."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

VERDICTS = ("holds", "holds under conditions", "fails")


@dataclass
class CheckResult:
    """What one check found.

    name      short id (``lsgdsim check --only NAME``)
    claim     the paper's claim, in words
    reading   exactly which reading of the claim is tested (assumptions, definitions)
    setting   the experiment: objectives, sizes, seeds, step sizes (JSON-able)
    measured  the measured quantities (JSON-able; numbers, not prose)
    expected  the bound or expectation they are compared with (JSON-able)
    verdict   one of VERDICTS, computed from measured vs expected, never hard-coded
    summary   one or two sentences saying plainly what was found
    figure    path of the figure, relative to the report folder, or None
    """

    name: str
    claim: str
    reading: str
    setting: dict
    measured: dict
    expected: dict
    verdict: str
    summary: str
    figure: str | None = None
    elapsed_s: float = 0.0
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}; got {self.verdict!r}")

    def to_dict(self) -> dict:
        return _clean(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _clean(obj):
    """JSON-able copy: NumPy scalars/arrays to Python, non-finite floats to strings."""
    import numpy as np
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj
