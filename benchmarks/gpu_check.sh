#!/usr/bin/env bash
# GPU check (issue 12, item 6): one prepared run on a machine with a CUDA GPU and CuPy preinstalled.
#
#   bash benchmarks/gpu_check.sh          (from anywhere; it runs from the working tree, PYTHONPATH=.)
#
# 1. pytest -m gpu (tests/test_gpu.py: CuPy against NumPy, determinism, worker-block replay, fused
#    Rastrigin);
# 2. the core benchmark on CuPy (benchmarks/bench_core.py --quick --backend cupy);
# 3. the GPU's memory bandwidth (device-to-device copy) and a noisy LSGD step on CuPy against the
#    bytes it must move at that bandwidth (Rastrigin p·d = 10^6 and 10^7, quadratic p = 512, d = 1000).
# Prints everything and writes gpu_check.json (plus bench_core_cupy.json) to $OUT, or ./gpu_out when
# $OUT is unset. Nothing is downloaded. Each part has its own time limit; the whole stays under 8 min.
# Exit status: 0 when every part ran and passed; 3 when CuPy or a CUDA device is absent (it says so,
# writes {"status": "no-gpu", ...} and runs nothing else); otherwise the number of failed parts.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=. MPLBACKEND=Agg
OUTDIR="${OUT:-./gpu_out}"
mkdir -p "$OUTDIR"
PY="${PYTHON:-python}"
echo "gpu_check: $(date -u +%FT%TZ) in $(pwd), writing to $OUTDIR"; uptime

if ! "$PY" - "$OUTDIR" <<'EOF_PY'
import json, sys
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"gpu_check: CuPy {cupy.__version__}, {n} device(s), device 0: {name}")
except Exception as exc:
    print(f"gpu_check: no usable GPU here ({type(exc).__name__}: {exc}); nothing run")
    json.dump({"status": "no-gpu", "reason": f"{type(exc).__name__}: {exc}"}, open(f"{sys.argv[1]}/gpu_check.json", "w"))
    sys.exit(1)
EOF_PY
then
    exit 3
fi

failed=0
echo "== 1. pytest -m gpu"
timeout 180 "$PY" -m pytest -m gpu -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tee "$OUTDIR/pytest_gpu.txt"
test "${PIPESTATUS[0]}" -eq 0 || failed=$((failed + 1))

echo "== 2. bench_core.py --quick --backend cupy"
timeout 150 "$PY" benchmarks/bench_core.py --quick --backend cupy --json "$OUTDIR/bench_core_cupy.json" 2>&1 \
    | tee "$OUTDIR/bench_core_cupy.txt"
test "${PIPESTATUS[0]}" -eq 0 || failed=$((failed + 1))

echo "== 3. step against the memory bandwidth"
timeout 120 "$PY" - "$OUTDIR" "$failed" <<'EOF_PY' 2>&1 | tee "$OUTDIR/bandwidth.txt"
import json, sys, time
import cupy
sys.path.insert(0, "benchmarks")
from bench_core import sim_step_time
from lsgdsim import objectives as O

def bandwidth():
    x = cupy.ones(2**28 // 8 * 8, dtype=cupy.float64)  # 2 GiB
    y = cupy.empty_like(x)
    best = float("inf")
    for _ in range(5):
        cupy.cuda.Device().synchronize(); t0 = time.perf_counter()
        cupy.copyto(y, x); cupy.cuda.Device().synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * x.nbytes / best  # read + write

bw = bandwidth()
print(f"device-to-device copy bandwidth: {bw / 1e9:.0f} GB/s")
# The least a noisy LSGD step must move: read X, write the new X, and (unfused) write and read the
# gradient with its noise once: 4 passes of 8·p·d bytes; the quadratic also reads A (8·d² bytes).
cases = [("rastrigin p=100 d=1e4", O.Rastrigin(dim=10**4), 100),
         ("rastrigin p=1000 d=1e4", O.Rastrigin(dim=10**4), 1000),
         ("quadratic p=512 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512)]
rows = {}
for label, obj, p in cases:
    step = min(sim_step_time(obj, p, 50, backend="cupy") for _ in range(3))
    nbytes = 4 * 8 * p * obj.dim + (8 * obj.dim**2 if isinstance(obj, O.Quadratic) else 0)
    floor = nbytes / bw
    rows[label] = {"step_s": step, "bytes": nbytes, "bandwidth_floor_s": floor, "step_over_floor": step / floor}
    print(f"{label}: step {1e6 * step:.0f} us, {nbytes / 1e6:.0f} MB at {bw / 1e9:.0f} GB/s = {1e6 * floor:.0f} us; "
          f"step / floor = {step / floor:.1f}")
name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
json.dump({"status": "ran", "device": name, "cupy": cupy.__version__, "bandwidth_Bps": bw, "steps": rows,
           "failed_parts_before": int(sys.argv[2])}, open(f"{sys.argv[1]}/gpu_check.json", "w"), indent=1)
EOF_PY
test "${PIPESTATUS[0]}" -eq 0 || failed=$((failed + 1))
echo "gpu_check: done, $failed part(s) failed; results in $OUTDIR"
exit "$failed"
