"""Benchmark the feature builder against the same aggregation as one bare DuckDB statement.

Usage::

    python benchmarks/features.py                      # generate (or reuse) a 1,039,229-subscriber province
    python benchmarks/features.py --data DIR           # use an existing province folder
    python benchmarks/features.py --big                # also: a 10M province, built in a subprocess capped at 8 GB

The province is generated with ``workbench sample --subscribers N --out DIR``
(kept under ``benchmarks/out/`` and reused on the next run).  Both contenders
write Parquet through ``COPY`` in the same process and run, in alternating
order, ``--repeat`` times; the best time of each is compared (target: builder
<= 1.5 x bare).  The bare statement is written independently of the builder
(its own SQL for spells, usage, VAS and handset aggregates), and the two
outputs are checked to agree.

``--big`` runs ``build_features(out=...)`` on a 10M-subscriber province in a
child process whose address space is capped (``RLIMIT_AS``, default 8 GB) with
a DuckDB ``memory_limit`` below it and a spill directory, and reports the
child's peak RSS.
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
sys.path.insert(0, str(ROOT))

SUBSCRIBERS = 1_039_229
BIG_SUBSCRIBERS = 10_000_000
OUT = ROOT / "benchmarks" / "out"


def ensure_province(folder: Path, subscribers: int, months: int) -> Path:
    """Generate the province with the CLI unless ``folder`` already holds one."""
    if (folder / "subscribers.parquet").exists() or (folder / "subscribers").is_dir():
        print(f"reusing province {folder}")
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "workbench", "sample", "--subscribers", str(subscribers), "--months", str(months),
           "--out", str(folder)]
    print("generating:", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    if subprocess.run([sys.executable, "-m", "workbench", "sample", "--help"], cwd=ROOT,
                      capture_output=True).returncode == 0:
        subprocess.run(cmd, check=True, cwd=ROOT)
    else:  # the `sample` command is not wired yet: call the generator directly
        from workbench.data.synth.generate import generate_province

        generate_province(subscribers, months=months, out=folder, truth_out=Path(str(folder) + "_truth"))
    print(f"generated in {time.perf_counter() - t0:.1f} s")
    return folder


def last_month(folder: Path) -> str:
    from workbench.data.source import connect

    con = connect(folder)
    (m,) = con.execute("SELECT max(CAST(month AS DATE)) FROM monthly_usage").fetchall()[0]
    con.close()
    return f"{m:%Y-%m}"


def bare_sql(snapshot: str, window: int) -> str:
    """The feature aggregation as one hand-written DuckDB statement (no helpers from the builder)."""
    import pandas as pd

    from workbench.data.tables import CAPABILITIES, CONTENT_CATEGORIES, PRODUCT_FAMILIES, USAGE_MEASURES

    s = pd.Timestamp(snapshot + "-01")
    e = s + pd.offsets.MonthEnd(0)
    w = s - pd.DateOffset(months=window - 1)
    p = s - pd.DateOffset(months=1)
    S, E, W, P = (f"DATE '{d:%Y-%m-%d}'" for d in (s, e, w, p))
    usage = ",\n".join(
        f"avg({m}) AS {m}_mean, max({m})::DOUBLE AS {m}_max, max({m}) FILTER (WHERE month = {S})::DOUBLE AS {m}_last, "
        f"regr_slope({m}, datediff('month', {W}, month)) AS {m}_trend" for m in USAGE_MEASURES)
    tot = "+".join(f"sum(content_{c})" for c in CONTENT_CATEGORIES)
    shares = ",\n".join(f"sum(content_{c}) / nullif({tot}, 0) AS content_share_{c}" for c in CONTENT_CATEGORIES)
    vas, vas_out = [], []
    for col, vals, pre in (("family", PRODUCT_FAMILIES, "vas_fam"),
                           ("content_category", CONTENT_CATEGORIES, "vas_cat")):
        for v in vals:
            c = f"{col} = '{v}'"
            vas.append(
                f"count(*) FILTER ({c} AND start_date >= {W}) AS {pre}_{v}_orders, "
                f"count(*) FILTER ({c} AND end_date >= {W}) AS {pre}_{v}_unsubscribes, "
                f"coalesce(bool_or(end_date IS NULL) FILTER ({c}), false) AS {pre}_{v}_active, "
                f"datediff('month', max(start_date) FILTER ({c}), {E})::DOUBLE AS {pre}_{v}_months_since_order")
            vas_out.append(f"coalesce(v.{pre}_{v}_orders, 0) AS {pre}_{v}_orders, "
                           f"coalesce(v.{pre}_{v}_unsubscribes, 0) AS {pre}_{v}_unsubscribes, "
                           f"coalesce(v.{pre}_{v}_active, false) AS {pre}_{v}_active, "
                           f"v.{pre}_{v}_months_since_order")
    caps = ", ".join(f"coalesce(m.cap_{c}, false) AS handset_cap_{c}" for c in CAPABILITIES)
    return f"""
WITH ev AS (
  SELECT subscriber_id, product_id, event_date::DATE AS d, event_type,
         lag(event_type) OVER w AS prev_type,
         min(CASE WHEN event_type = 'unsubscribe' THEN event_date::DATE END)
             OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_unsub
  FROM vas_orders WHERE event_date::DATE <= {E}
  WINDOW w AS (PARTITION BY subscriber_id, product_id ORDER BY event_date::DATE, event_type = 'unsubscribe', event_id)
), sp AS (
  SELECT ev.subscriber_id, p.family, p.content_category, ev.d AS start_date, ev.next_unsub AS end_date
  FROM ev JOIN vas_products p USING (product_id)
  WHERE ev.event_type = 'order' AND (ev.prev_type IS NULL OR ev.prev_type = 'unsubscribe')
), u AS (
  SELECT subscriber_id, count(*) AS usage_months, {usage}, {shares}
  FROM (SELECT * REPLACE (month::DATE AS month) FROM monthly_usage) mu
  WHERE month BETWEEN {W} AND {E} GROUP BY subscriber_id
), v AS (
  SELECT subscriber_id, {", ".join(vas)} FROM sp GROUP BY subscriber_id
), h AS (
  SELECT subscriber_id, arg_max(handset_model, d) AS handset_model,
         CASE WHEN count(*) > 1 THEN max(d) END AS last_change,
         count(*) FILTER (d >= {W}) - (min(d) >= {W})::INT AS changes
  FROM (SELECT subscriber_id, event_date::DATE AS d, handset_model FROM handset_events WHERE event_date::DATE <= {E})
  GROUP BY subscriber_id
)
SELECT s.subscriber_id, datediff('month', s.join_date::DATE, {E}) AS tenure_months, s.brand, s.tariff_plan,
       s.branch_id, coalesce(b.is_capital, false) AS is_capital, s.rejoined, s.age::DOUBLE AS age, s.gender,
       coalesce(u.usage_months, 0) AS usage_months, u.* EXCLUDE (subscriber_id, usage_months),
       {", ".join(vas_out)},
       h.subscriber_id IS NOT NULL AS handset_known, {caps}, coalesce(m.smartphone, false) AS handset_smartphone,
       m.price_band AS handset_price_band,
       datediff('month', h.last_change, {E})::DOUBLE AS handset_months_since_change,
       coalesce(h.last_change >= {S}, false) AS handset_changed_1m,
       coalesce(h.last_change >= {P}, false) AS handset_changed_2m,
       coalesce(h.changes, 0) AS handset_changes_window
FROM subscribers s
LEFT JOIN branches b USING (branch_id)
LEFT JOIN u USING (subscriber_id) LEFT JOIN v USING (subscriber_id) LEFT JOIN h USING (subscriber_id)
LEFT JOIN handset_models m ON m.handset_model = h.handset_model
WHERE s.join_date::DATE <= {E}
ORDER BY s.subscriber_id"""


def time_pair(folder: Path, snapshot: str, window: int, repeat: int, threads: int | None) -> dict:
    import duckdb

    from workbench.data.source import connect
    from workbench.features import build_features

    tmp = Path(tempfile.mkdtemp(prefix="bench-features-", dir=OUT))
    built, bare = tmp / "builder.parquet", tmp / "bare.parquet"
    sql = bare_sql(snapshot, window)
    t_builder, t_bare = [], []
    try:
        for i in range(repeat):
            order = ("builder", "bare") if i % 2 == 0 else ("bare", "builder")
            for who in order:
                t0 = time.perf_counter()
                if who == "builder":
                    build_features(folder, snapshot, window, out=built, threads=threads)
                    t_builder.append(time.perf_counter() - t0)
                else:
                    con = connect(folder, threads=threads)
                    con.execute(f"COPY ({sql}) TO '{bare}' (FORMAT parquet, COMPRESSION zstd)")
                    con.close()
                    t_bare.append(time.perf_counter() - t0)
        check = duckdb.connect()
        a, b = f"read_parquet('{built}')", f"read_parquet('{bare}')"
        rows = check.execute(f"SELECT (SELECT count(*) FROM {a}), (SELECT count(*) FROM {b})").fetchall()[0]
        types = dict(check.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {a})").fetchall())
        ncol = len(types)
        tests = []
        for c, typ in types.items():
            if c == "subscriber_id":
                continue
            if typ == "DOUBLE":
                tests.append(f"sum(CASE WHEN coalesce(abs(x.{c} - y.{c}) > 1e-9 * (1 + abs(y.{c})), "
                             f"(x.{c} IS NULL) <> (y.{c} IS NULL)) THEN 1 ELSE 0 END) AS {c}")
            else:
                tests.append(f"sum(CASE WHEN x.{c}::VARCHAR IS DISTINCT FROM y.{c}::VARCHAR THEN 1 ELSE 0 END) AS {c}")
        res = check.execute(f"SELECT {', '.join(tests)} FROM {a} x FULL JOIN {b} y USING (subscriber_id)").df()
        diff = {c: int(v) for c, v in res.iloc[0].items() if v}
        check.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"builder_s": min(t_builder), "bare_s": min(t_bare), "ratio": min(t_builder) / min(t_bare),
            "builder_all_s": [round(x, 2) for x in t_builder], "bare_all_s": [round(x, 2) for x in t_bare],
            "rows": rows, "columns": ncol, "differing_rows": diff}


CHILD = r"""
import json, os, resource, sys, time
cap = int(sys.argv[4])
if cap > 0:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path.insert(0, sys.argv[6])
from workbench.features import build_features
t0 = time.perf_counter()
build_features(sys.argv[1], sys.argv[2], 6, out=sys.argv[3], memory_limit=sys.argv[5],
               temp_directory=sys.argv[3] + ".spill", order=True)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2}))
"""


def run_big(folder: Path, snapshot: str, cap_gb: float, memory_limit: str) -> dict:
    out = OUT / "big_features.parquet"
    cap = int(cap_gb * 1024 ** 3)
    cmd = [sys.executable, "-c", CHILD, str(folder), snapshot, str(out), str(cap), memory_limit, str(ROOT)]
    print(f"10M run: RLIMIT_AS {cap_gb} GB, DuckDB memory_limit {memory_limit}", flush=True)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        return {"ok": False, "returncode": res.returncode, "stderr": res.stderr[-2000:]}
    info = json.loads(res.stdout.strip().splitlines()[-1])
    info["ok"] = True
    info["out_mb"] = round(out.stat().st_size / 1024 ** 2, 1)
    out.unlink()
    shutil.rmtree(str(out) + ".spill", ignore_errors=True)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="existing province folder (default: generate under benchmarks/out/)")
    ap.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    ap.add_argument("--months", type=int, default=12, help="months generated (>= window)")
    ap.add_argument("--snapshot", help="snapshot month (default: the last month of monthly_usage)")
    ap.add_argument("--window", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--big", action="store_true", help="also run the 10M province in a capped subprocess")
    ap.add_argument("--big-data", type=Path, help="existing 10M province folder")
    ap.add_argument("--big-subscribers", type=int, default=BIG_SUBSCRIBERS)
    ap.add_argument("--cap-gb", type=float, default=8.0, help="address-space cap of the 10M child (0: none)")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit of the 10M child")
    args = ap.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    folder = args.data or ensure_province(OUT / f"province_{args.subscribers}", args.subscribers, args.months)
    snapshot = args.snapshot or last_month(folder)
    print(f"province {folder}  snapshot {snapshot}  window {args.window}  cpus {os.cpu_count()}", flush=True)
    r = time_pair(folder, snapshot, args.window, args.repeat, args.threads)
    print(f"build_features : {r['builder_s']:.2f} s (runs {r['builder_all_s']})")
    print(f"bare DuckDB SQL: {r['bare_s']:.2f} s (runs {r['bare_all_s']})")
    print(f"ratio          : {r['ratio']:.2f} x  (target <= 1.5 x) -> {'OK' if r['ratio'] <= 1.5 else 'ABOVE TARGET'}")
    print(f"rows {r['rows']}, columns {r['columns']}, columns that differ (rows): {r['differing_rows'] or 'none'}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2:.2f} GB")
    if args.big:
        big = args.big_data or ensure_province(OUT / f"province_{args.big_subscribers}", args.big_subscribers,
                                               args.months)
        info = run_big(big, args.snapshot or last_month(big), args.cap_gb, args.memory_limit)
        print("10M:", json.dumps(info))
        if not info["ok"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
