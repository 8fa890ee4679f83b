"""Benchmark the synthetic province generator: wall time, CPU time, peak memory and output size.

Usage::

    python benchmarks/generate.py                          # 1,039,229 and 10,000,000 subscribers x 6 months
    python benchmarks/generate.py --sizes 1039229          # only the source-sized province
    python benchmarks/generate.py --sizes 200000 --months 12 --chunk-size 100000

Each size runs in a fresh child process (so its peak resident memory, read with
``resource.getrusage``, is its own) that writes into a temporary folder under
``--tmp`` (default the system temp dir), which is deleted afterwards unless
``--keep`` is given.  Targets: 1,039,229 x 6 months in under 2 minutes on
2 cores; 10,000,000 x 6 months with a peak RSS under 6 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1_039_229, 10_000_000)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from workbench.data.synth import generate_province

    out = Path(args.out)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    summary = generate_province(args.worker, args.months, args.seed, out / "province",
                                chunk_size=args.chunk_size, progress=False)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss        # KiB on Linux
    print(json.dumps({
        "subscribers": args.worker,
        "months": args.months,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "peak_rss_mb": round(peak_kib / 1024),
        "province_mb": round(_folder_bytes(out / "province") / 2**20),
        "truth_mb": round(_folder_bytes(out / "province_truth") / 2**20),
        "usage_rows": summary["rows"]["monthly_usage"],
        "order_rows": summary["rows"]["vas_orders"],
        "stable_share": summary["stable_share_mobile_newspaper"],
    }))


def _run(size: int, args: argparse.Namespace) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"synth_bench_{size}_", dir=args.tmp))
    try:
        cmd = [sys.executable, __file__, "--worker", str(size), "--out", str(out), "--months", str(args.months),
               "--seed", str(args.seed), "--chunk-size", str(args.chunk_size)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:
            raise SystemExit(f"benchmark of {size:,} subscribers failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if args.keep:
            print(f"kept {out}", file=sys.stderr)
        else:
            shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), metavar="N",
                   help="numbers of subscribers to generate (default: 1039229 10000000)")
    p.add_argument("--months", type=int, default=6, help="observed months (default 6)")
    p.add_argument("--seed", type=int, default=20261126, help="seed (default 20261126)")
    p.add_argument("--chunk-size", type=int, default=200_000, help="subscribers per chunk (default 200000)")
    p.add_argument("--tmp", default=None, help="parent folder of the temporary output (default: system temp)")
    p.add_argument("--keep", action="store_true", help="keep the generated folders")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        _worker(args)
        return 0
    print(f"synthetic province generator - {os.cpu_count()} cores, {args.months} months, "
          f"chunk {args.chunk_size:,}")
    head = (f"{'subscribers':>12} {'seconds':>8} {'cpu s':>7} {'peak RSS MB':>12} {'province MB':>12} "
            f"{'truth MB':>9} {'usage rows':>12} {'stable share':>13}")
    print(head)
    print("-" * len(head))
    for size in args.sizes:
        r = _run(size, args)
        print(f"{r['subscribers']:>12,} {r['seconds']:>8.1f} {r['cpu_seconds']:>7.1f} {r['peak_rss_mb']:>12,} "
              f"{r['province_mb']:>12,} {r['truth_mb']:>9,} {r['usage_rows']:>12,} {r['stable_share']:>13.4%}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
