"""Benchmark of the province pipeline in-process against a floor, and of the Dask path's memory as data grows.

Part (a) - seed scale, in-process.  On a province of 1,039,229 subscribers (the
size of the source's model sample) the pipeline

    features -> model sample -> train -> score -> campaign lists

runs with the workbench's functions (:func:`workbench.features.build_features`,
:func:`workbench.models.sample.model_sample`, :class:`workbench.models.TargetModel`,
:func:`workbench.models.score`, then the campaign steps on the top 100,000:
control split, channel plan, executor assignment and list rows with masked
numbers; reason codes - TreeSHAP, which has no counterpart in the floor - are
timed apart on 2,000 list rows), and is compared
with a *floor* measured in the same run: the same work done bare -

* features: the hand-written DuckDB statement of ``benchmarks/features.py``;
* labels: the same :func:`workbench.features.subscriber_status` (shared work,
  reported on its own line);
* train: ``lightgbm.train`` with the model's parameters and as many rounds as
  the final model has (the pipeline also trains the early-stopping patience
  beyond them and evaluates the held-out rows), pandas categories;
* score: ``Booster.predict`` on the potential customers;
* lists: the top N by score split per branch (a sort and a groupby).

The ratio pipeline / floor is printed per step and in total.

Part (b) - the Dask path, out of core.  On a 2-worker ``LocalCluster`` bound to
127.0.0.1 with each worker's memory capped (``--worker-memory``), features
(:func:`workbench.scale.build_features`, DuckDB in each worker over
subscriber-id ranges) and scoring (:func:`workbench.scale.score`, the part (a)
model over the feature parts) run at 1,039,229 and 10,000,000 subscribers.  A
fresh cluster per size; each worker's resident memory is sampled every 0.05 s,
and the peak per worker and step is printed, so one can see that memory per
worker stays bounded while the data grows tenfold.

Provinces are generated with ``workbench sample --subscribers N --out DIR``
(6 months, the default seed) unless the folder already holds one; the 10M
province (~8 minutes on an idle machine, ~2 GB) is deleted at the end when
this run generated it (unless ``--keep-data``), or with ``--delete-big``.

Run::

    .venv/bin/python benchmarks/pipeline.py                          # (a) and (b)
    .venv/bin/python benchmarks/pipeline.py --part a
    .venv/bin/python benchmarks/pipeline.py --part b --worker-memory 3GiB --json out.json

Figures are printed; nothing here is a pass/fail test.  Times are wall-clock on
whatever else the machine is doing (the load average is printed with them).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED_SUBSCRIBERS = 1_039_229
BIG_SUBSCRIBERS = 10_000_000
FAMILY, SNAPSHOT, WINDOW = "mobile_newspaper", "2026-10", 6
LIST_SIZE = 100_000          # users on the campaign's lists (top of the ranking)
REASON_ROWS = 2_000          # list rows whose reason codes are timed (TreeSHAP; reported apart)
CHANNELS = pd.DataFrame({
    "channel": ["sms", "wap_push", "outbound_call", "ivr"],
    "unit_cost": [0.05, 0.10, 3.0, 0.3],            # yuan per contact
    "response_multiplier": [1.6, 1.7, 5.0, 2.5],
})
DAILY_PER_10K = {"sms": 900.0, "wap_push": 400.0, "outbound_call": 12.0, "ivr": 60.0}
DAYS, VALUE_PER_ORDER, BUDGET = 30, 30.0, 20_000.0


# ------------------------------------------------------------------ helpers
def ensure_province(folder: Path, subscribers: int) -> bool:
    """Generate the province with the CLI unless ``folder`` already holds one; True when generated."""
    if (folder / "subscribers.parquet").exists() or (folder / "subscribers").is_dir():
        print(f"reusing province {folder}", flush=True)
        return False
    cmd = [sys.executable, "-m", "workbench", "sample", "--subscribers", str(subscribers), "--out", str(folder),
           "--no-progress"]
    print("generating:", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return True


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Steps:
    """Wall-clock time of named steps."""

    def __init__(self, title: str):
        self.title, self.seconds = title, {}
        print(title, flush=True)

    def run(self, name: str, fn):
        t0 = time.perf_counter()
        out = fn()
        self.seconds[name] = time.perf_counter() - t0
        print(f"  {name:<12s} {self.seconds[name]:8.2f} s", flush=True)
        return out

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def bare_feature_sql(snapshot: str, window: int) -> str:
    """The hand-written feature statement of ``benchmarks/features.py`` (an independent floor)."""
    spec = importlib.util.spec_from_file_location("bench_features", ROOT / "benchmarks" / "features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.bare_sql(snapshot, window)


def capacity_table(users: pd.DataFrame) -> pd.DataFrame:
    sizes = users["branch_id"].value_counts()
    rows = [(b, c, np.floor(n / 10_000 * per * DAYS)) for b, n in sizes.items() for c, per in DAILY_PER_10K.items()]
    return pd.DataFrame(rows, columns=["branch_id", "channel", "capacity"])


def executors_for(users: pd.DataFrame) -> dict:
    sizes = users["branch_id"].value_counts()
    ex: dict = {}
    for b, n in sizes.items():
        ex[(b, "outbound_call")] = [f"{b}-caller-{i:02d}" for i in range(max(2, int(n // 2_000)))]
        for c in ("sms", "wap_push", "ivr"):
            ex[(b, c)] = [f"{b}-{c}-platform"]
    return ex


# ------------------------------------------------------------------ part (a)
def pipeline(src: Path, seed: int, threads: int) -> tuple[Steps, dict]:
    from workbench.campaign import assign_control, assign_executors, build_list, build_problem, plan_channels
    from workbench.data.source import connect
    from workbench.features import build_features
    from workbench.models import TargetModel, reason_codes, score
    from workbench.models.sample import family_categories, model_columns, model_sample

    steps = Steps("(a) pipeline, in-process (workbench functions)")
    feats = steps.run("features", lambda: build_features(src, SNAPSHOT, WINDOW))
    sample = steps.run("labels", lambda: model_sample(src, FAMILY, SNAPSHOT))
    cols = model_columns(FAMILY, family_categories(src, FAMILY))
    X = feats.loc[sample.rows.index, cols]
    model = steps.run("train", lambda: TargetModel(random_state=seed, n_jobs=threads).fit(X, sample.target))
    potential = feats.loc[sample.potential_ids, list(dict.fromkeys([*cols, "branch_id"]))].reset_index()
    scored = steps.run("score", lambda: score(model, potential, "subscriber_id", reasons=0))

    def lists():
        top = scored.head(LIST_SIZE).merge(potential[["subscriber_id", "branch_id"]], on="subscriber_id")
        top["branch_id"] = top["branch_id"].astype("str")
        split = assign_control(top[["subscriber_id", "branch_id", "score"]], share=0.1, seed=seed)
        target = split[split["group"] == "target"]
        problem = build_problem(target, CHANNELS, value_per_order=VALUE_PER_ORDER, budget=BUDGET,
                                capacity=capacity_table(target))
        plan = plan_channels(problem, progress=False)
        assigned = assign_executors(plan.plan, executors_for(target))
        con = connect(src)
        con.register("members", assigned[["subscriber_id"]])
        msisdn = con.execute(
            "SELECT s.subscriber_id, s.msisdn FROM subscribers s JOIN members USING (subscriber_id)").df()
        con.close()
        return build_list(assigned, msisdn=msisdn, edition="news", free_months=1)

    rows = steps.run("lists", lists)
    # Reason codes (TreeSHAP) are the costliest part of a list and have no counterpart in the floor: timed
    # apart on a sample of the list and reported per 1,000 rows, not in the ratio.
    members = potential.set_index("subscriber_id").loc[rows["subscriber_id"].head(REASON_ROWS), cols]
    t0 = time.perf_counter()
    reason_codes(model, members, top=3)
    reasons_s = (time.perf_counter() - t0) / len(members) * 1000
    print(f"  (reason codes, not in the ratio: {reasons_s:.2f} s per 1,000 list rows, "
          f"{reasons_s * len(rows) / 1000:,.0f} s for the whole list of {len(rows):,})", flush=True)
    info = {"reasons_s_per_1000": reasons_s, "model": model, "columns": cols,
            "sample": sample.composition.to_dict(), "list_rows": len(rows),
            "model_rounds": int(model.booster_.current_iteration()), "best_iteration": model.best_iteration_,
            "validation": model.params_["validation"], "holdout_loss": model.params_.get("validation_loss")}
    print(f"  sample {sample.composition.equation('en')}; trees in the model {info['model_rounds']} "
          f"({info['validation']} early stopping); list rows {len(rows):,}", flush=True)
    return steps, info


def floor(src: Path, model, cols: list[str], threads: int) -> Steps:
    import lightgbm as lgb

    from workbench.data.source import connect
    from workbench.features import subscriber_status
    from workbench.scale import lgb_params

    steps = Steps("(a) floor, same run (bare DuckDB / LightGBM / pandas)")
    sql = bare_feature_sql(SNAPSHOT, WINDOW)

    def features():
        con = connect(src)
        df = con.execute(sql).df()
        con.close()
        return df.set_index("subscriber_id")

    feats = steps.run("features", features)
    status = steps.run("labels", lambda: subscriber_status(src, FAMILY, SNAPSHOT))
    in_sample = status.index[status["stable"] | ~status["active"]]
    potential = status.index[~status["active"]]

    def train():
        X = feats.loc[in_sample, cols]
        for c in X.columns[X.dtypes == "str"]:
            X[c] = X[c].astype("category")
        y = status.loc[in_sample, "stable"].to_numpy(dtype=float)
        p = model.params_
        _, params = lgb_params(model, p["n_train_rows"], p["n_minority"], p["seed"])
        rounds = int(model.booster_.current_iteration())
        return lgb.train({**params, "num_threads": threads}, lgb.Dataset(X, y), num_boost_round=rounds), X

    booster, X = steps.run("train", train)

    def score():
        Xp = X.loc[X.index.intersection(potential)]
        return pd.DataFrame({"score": booster.predict(Xp)}, index=Xp.index)

    scored = steps.run("score", score)

    def lists():
        top = scored.nlargest(LIST_SIZE, "score").join(feats["branch_id"])
        return {b: g for b, g in top.groupby("branch_id")}

    steps.run("lists", lists)
    return steps


def part_a(src: Path, seed: int, threads: int, model_out: Path) -> dict:
    from workbench.data.source import connect
    from workbench.models import save_model

    con = connect(src)  # warm the page cache for both contenders
    for t in ("subscribers", "monthly_usage", "vas_orders", "handset_events"):
        con.execute(f"SELECT count(*) FROM {t}").fetchall()
    con.close()
    print(load(), flush=True)
    steps, info = pipeline(src, seed, threads)
    bare = floor(src, info["model"], info["columns"], threads)
    print("(a) ratio pipeline / floor")
    for name in steps.seconds:
        print(f"  {name:<12s} {steps.seconds[name] / bare.seconds[name]:8.2f} x   "
              f"({steps.seconds[name]:.1f} s vs {bare.seconds[name]:.1f} s)")
    ratio = steps.total / bare.total
    print(f"  {'total':<12s} {ratio:8.2f} x   ({steps.total:.1f} s vs {bare.total:.1f} s)   {load()}", flush=True)
    model = info.pop("model")
    cols = info.pop("columns")
    save_model(model, model_out, label_definition={"family": FAMILY, "target": "stable", "snapshot": SNAPSHOT},
               training_window={"snapshot": SNAPSHOT, "window": WINDOW}, metrics={}, training_data=pd.DataFrame(
                   {c: pd.Series(dtype="float64") for c in cols}), id_col="subscriber_id")
    return {"pipeline_s": steps.seconds, "floor_s": bare.seconds, "ratio": ratio,
            "step_ratio": {k: steps.seconds[k] / bare.seconds[k] for k in steps.seconds}, **info,
            "model_folder": str(model_out)}


# ------------------------------------------------------------------ part (b)
class PeakRSS:
    """Samples the resident memory of some processes in a thread; ``peaks`` per pid (bytes).

    (``ru_maxrss`` / ``VmHWM`` are no use here: a worker forked from Dask's
    forkserver starts with its parent's high-water mark.)
    """

    def __init__(self, pids, interval: float = 0.05):
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peaks = dict.fromkeys(self.procs, 0)
        self.interval, self._stop = interval, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, p in self.procs.items():
                try:
                    rss = p.memory_info().rss
                except Exception:  # noqa: BLE001 - a worker restarted: keep what was seen
                    continue
                self.peaks[pid] = max(self.peaks[pid], rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def dask_size(src: Path, n: int, model_folder: Path, work: Path, worker_memory: str, partition_size: int) -> dict:
    from workbench.scale import build_features, part_files, score, using_scheduler

    print(f"(b) {n:,} subscribers on a 2-worker LocalCluster (127.0.0.1), memory_limit {worker_memory} per worker",
          flush=True)
    out: dict = {"subscribers": n}
    with using_scheduler("local", n_workers=2, memory_limit=worker_memory) as client:
        pids = client.run(os.getpid)
        workers = sorted(pids)
        for name, fn in (
            ("features", lambda: build_features(src, SNAPSHOT, WINDOW, out=work / f"features_{n}", scheduler=client,
                                                family=FAMILY, partition_size=partition_size, progress=False)),
            ("score", lambda: score(model_folder, work / f"features_{n}", out=work / f"scores_{n}", scheduler=client,
                                    query="group == 'potential'", keep=["branch_id"], progress=False)),
        ):
            with PeakRSS(pids.values()) as peak:
                t0 = time.perf_counter()
                folder = fn()
                seconds = time.perf_counter() - t0
            parts = part_files(folder)
            size = sum(p.stat().st_size for p in parts)
            out[name] = {"seconds": seconds, "parts": len(parts), "output_mb": size / 2 ** 20,
                         "peak_rss_mb": [peak.peaks[pids[w]] / 2 ** 20 for w in workers]}
            print(f"  {name:<9s} {seconds:8.1f} s   {len(parts)} parts, {size / 2 ** 20:,.0f} MB out   "
                  f"peak RSS per worker " + ", ".join(f"{m:,.0f} MB" for m in out[name]["peak_rss_mb"]), flush=True)
        after = client.run(os.getpid)
        out["worker_restarts"] = len(set(pids.values()) - set(after.values()))
    print(f"  restarted workers: {out['worker_restarts']}   {load()}", flush=True)
    return out


def part_b(srcs: dict[int, Path], model_folder: Path, work: Path, worker_memory: str, partition_size: int,
           keep: bool) -> list[dict]:
    results = []
    for n, src in srcs.items():
        try:
            results.append(dask_size(src, n, model_folder, work, worker_memory, partition_size))
        finally:
            if not keep:
                for sub in (f"features_{n}", f"scores_{n}"):
                    shutil.rmtree(work / sub, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("a", "b", "ab"), default="ab")
    parser.add_argument("--data", type=Path, default=Path("/tmp/prov1m"), help="the 1,039,229-subscriber province")
    parser.add_argument("--big", type=Path, default=Path("/tmp/prov10m"), help="the 10,000,000-subscriber province")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "pipeline",
                        help="folder of the model and the Dask outputs")
    parser.add_argument("--worker-memory", default="3GiB", help="memory_limit of each Dask worker in (b)")
    parser.add_argument("--partition-size", type=int, default=250_000, help="subscribers per partition in (b)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="LightGBM threads in (a)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the Dask outputs and a 10M province generated by this run")
    parser.add_argument("--delete-big", action="store_true",
                        help="delete the 10M province at the end even when it was not generated by this run")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # fragmented frames from the feature builder
    args.work.mkdir(parents=True, exist_ok=True)
    model_folder = args.work / "model"
    figures: dict = {"machine": {"cpus": os.cpu_count(), "load_start": os.getloadavg()}}
    seed_src = args.data
    ensure_province(seed_src, SEED_SUBSCRIBERS)
    if "a" in args.part:
        figures["a"] = part_a(seed_src, args.seed, args.threads, model_folder)
    if "b" in args.part:
        if not (model_folder / "model.txt").is_file():
            raise SystemExit(f"part (b) scores with the model of part (a); run --part a first ({model_folder})")
        big = args.big
        generated = ensure_province(big, BIG_SUBSCRIBERS)
        try:
            figures["b"] = part_b({SEED_SUBSCRIBERS: seed_src, BIG_SUBSCRIBERS: big}, model_folder, args.work,
                                  args.worker_memory, args.partition_size, args.keep_data)
        finally:
            if (generated and not args.keep_data) or args.delete_big:
                shutil.rmtree(big, ignore_errors=True)
                shutil.rmtree(Path(str(big) + "_truth"), ignore_errors=True)
                print(f"deleted {big}", flush=True)
    figures["machine"]["load_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
