"""Acceptance benchmark of credit grading on a generated 1,039,229-subscriber province and its truth.

Usage::

    python benchmarks/credit.py                       # /tmp/prov1m, generated with `workbench sample` if missing
    python benchmarks/credit.py --data DIR [--truth DIR] [--json FILE]

What is measured (one process):

1. **The pipeline** (:func:`workbench.credit.province.train_province_credit`): features of every
   credit account at its grade date, training per segment (joiner x region) on the matured
   cohorts with the latest 3 join months held out of time, grading every account.
2. **Accuracy per segment against the observable ceiling**: a LightGBM taught the true
   probabilities ``p_bad`` (cross-entropy on soft labels) from the same observable columns on the
   training cohorts.  Model and ceiling are compared by AUC on the realised outcome of
   (a) the out-of-time cohort and (b) the **next cohort** - the new-user base graded at the end
   of the data, whose outcome only the truth knows.  Target: model >= 0.97 x ceiling.
3. **Grades**: the realised bad rate per grade A..E of the next cohort must increase strictly;
   the PSI of the grade mix between the training cohorts and the next cohort must be < 0.1.
4. **Time** of features + train + grade the whole base against a **floor** measured in the same
   run: the same feature statement, one ``lightgbm.train`` (200 rounds, default parameters) on
   the matured accounts and ``Booster.predict`` of every account.  Target: <= 1.5 x.  The libraries
   both use are imported before either is timed; CPU seconds (``time.process_time``, all threads)
   and the load average are printed beside the wall-clock seconds (the machine may be shared); the
   floor is also timed on one LightGBM thread (wall and CPU seconds: on a loaded machine the
   default-thread floor's OpenMP threads spin while waiting for a core, inflating its seconds).
   ``--full-compare`` also times the pipeline comparing the methods on all training rows
   (``compare_rows=0``) in the same run; ``--repeat N`` times pipeline and floor N times,
   alternately, and adds the ratio of the fastest of each (the load of a shared machine varies).

Figures are printed and written as JSON (``benchmarks/out/credit.json`` by default).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from model import DEFAULT_DATA, ensure_province  # noqa: E402

TARGET_AUC, TARGET_PSI, TARGET_TIME = 0.97, 0.1, 1.5


def _matrix(frame, columns):
    """Features as LightGBM takes them (text as categories)."""
    import pandas as pd

    X = frame[list(columns)].copy()
    for c in X.columns:
        if X[c].dtype == object or str(X[c].dtype) in ("str", "string"):
            X[c] = pd.Categorical(X[c].astype(str))
    return X


def _auc(y, s):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if len(set(y)) == 2 else None


def ceiling_scores(frame, truth_p, columns, seed=0):
    """A LightGBM taught the true ``p_bad`` of the matured accounts; scores of every account."""
    import lightgbm as lgb

    X = _matrix(frame, columns)
    learn = (frame["cohort"] == "train").to_numpy()
    params = dict(objective="cross_entropy", learning_rate=0.05, num_leaves=31, min_data_in_leaf=100,
                  feature_fraction=0.9, bagging_fraction=0.8, bagging_freq=1, seed=seed, verbose=-1)
    booster = lgb.train(params, lgb.Dataset(X[learn], label=truth_p[learn]), num_boost_round=400)
    return booster.predict(X)


def floor_run(source, columns, threads=None):
    """The bare path: the same feature statement, one LightGBM, predict every account (``threads``: LightGBM's
    ``num_threads``, default its own)."""
    import lightgbm as lgb

    from workbench.credit.features import credit_frame

    t0 = time.perf_counter()
    frame = credit_frame(source)
    X = _matrix(frame, columns)
    m = frame["matured"].to_numpy()
    params = dict(objective="binary", verbose=-1, seed=0) | ({} if threads is None else {"num_threads": threads})
    booster = lgb.train(params, lgb.Dataset(X[m], label=frame["bad"][m]), num_boost_round=200)
    booster.predict(X)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--truth", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "credit.json")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time pipeline and floor this many times, alternately; also reports the ratio of the "
                             "fastest of each (default 1)")
    parser.add_argument("--full-compare", action="store_true",
                        help="also time the pipeline comparing the methods on all training rows (compare_rows=0)")
    args = parser.parse_args(argv)
    truth_dir = args.truth or args.data.with_name(args.data.name + "_truth")
    ensure_province(args.data, truth_dir)
    if not (args.data / "credit_accounts.parquet").is_file():
        raise SystemExit(f"{args.data} has no credit tables: generate it again with this version "
                         "(`workbench sample`), or pass another --data")
    warnings.filterwarnings("ignore")

    from workbench.credit.features import FEATURE_COLUMNS, credit_frame
    from workbench.credit.province import grade_psi, grade_table, train_province_credit
    from workbench.data.synth.credit import load_credit_truth

    # the libraries both paths use are imported before either is timed (a one-off cost of the process)
    import lightgbm  # noqa: F401
    import optbinning  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.tree  # noqa: F401

    import workbench.credit.model  # noqa: F401
    import workbench.models.generic  # noqa: F401

    load = {"before": os.getloadavg()}
    c0, t0 = time.process_time(), time.perf_counter()
    frame = credit_frame(args.data)
    t_features = time.perf_counter() - t0
    t1 = time.perf_counter()
    grading = train_province_credit(args.data, frame=frame, progress=False)
    t_pipeline = t_features + time.perf_counter() - t1
    cpu_pipeline = time.process_time() - c0
    c0 = time.process_time()
    t_floor = floor_run(args.data, FEATURE_COLUMNS)
    cpu_floor = time.process_time() - c0
    runs = [(t_pipeline, t_floor, cpu_pipeline, cpu_floor)]
    for _ in range(max(args.repeat, 1) - 1):  # pipeline and floor again, alternately (a shared machine's load varies)
        c0, t0 = time.process_time(), time.perf_counter()
        train_province_credit(args.data, frame=credit_frame(args.data), progress=False)
        tp, cp = time.perf_counter() - t0, time.process_time() - c0
        c0 = time.process_time()
        tf = floor_run(args.data, FEATURE_COLUMNS)
        runs.append((tp, tf, cp, time.process_time() - c0))
    # for reading the figures: the floor on one thread is hardly moved by the load, and its CPU seconds are not
    # inflated by OpenMP threads spinning while they wait for a core (the default-thread floor's CPU seconds
    # were 4x its single-thread ones at a load of 13 on 2 cores)
    c0, t0 = time.process_time(), time.perf_counter()
    floor_run(args.data, FEATURE_COLUMNS, threads=1)
    t_floor_1, cpu_floor_1 = time.perf_counter() - t0, time.process_time() - c0
    before = None
    if args.full_compare:  # the previous way, every method on all training rows, for a ratio in the same run
        c0, t1 = time.process_time(), time.perf_counter()
        full = train_province_credit(args.data, frame=frame, progress=False, compare_rows=0)
        before = {"pipeline": t_features + time.perf_counter() - t1, "cpu_pipeline": time.process_time() - c0,
                  "methods": [m["method"] for m in full.summary["models"]]}
        before["ratio"], before["cpu_ratio"] = before["pipeline"] / t_floor, before["cpu_pipeline"] / cpu_floor
    load["after"] = os.getloadavg()

    truth = load_credit_truth(truth_dir).set_index("subscriber_id")
    fr = grading.frame
    p_true = truth.loc[fr["subscriber_id"], "p_bad"].to_numpy()
    realised = truth.loc[fr["subscriber_id"], "bad_realised"].to_numpy()
    ceiling = ceiling_scores(fr, p_true, FEATURE_COLUMNS)
    sc = grading.scores.set_index("subscriber_id").loc[fr["subscriber_id"]]
    score = sc["score"].to_numpy()
    seg = (fr["joiner"] + " & " + fr["region"]).to_numpy()
    cohort = fr["cohort"].to_numpy()
    per_segment = {}
    for s in sorted(set(seg)):
        row = {}
        for c in ("oot", "base"):
            m = (seg == s) & (cohort == c)
            model_auc, ceil_auc, oracle = _auc(realised[m], score[m]), _auc(realised[m], ceiling[m]), \
                _auc(realised[m], p_true[m])
            row[c] = {"rows": int(m.sum()), "bads": int(realised[m].sum()), "auc_model": model_auc,
                      "auc_ceiling": ceil_auc, "auc_oracle": oracle,
                      "ratio": None if not (model_auc and ceil_auc) else model_auc / ceil_auc}
        per_segment[s] = row
    base = fr["cohort"].to_numpy() == "base"
    nxt = sc[base].assign(realised=realised[base])
    table = grade_table(nxt, outcome="realised")
    rates = table["bad_rate"].tolist()
    psi = grade_psi(sc.loc[cohort == "train", "grade"], sc.loc[base, "grade"])
    summary = grading.summary
    out = {
        "accounts": int(len(fr)), "train": int((cohort == "train").sum()), "oot": int((cohort == "oot").sum()),
        "base": int(base.sum()), "per_segment": per_segment,
        "methods": [{k: m.get(k) for k in ("segment", "members", "method", "auc_oot", "compared_on", "auc_held")}
                    for m in summary.get("models", [])],
        "merges": summary.get("merges"),
        "next_cohort_grades": table.to_dict("records"),
        "bad_rate_strictly_increasing": bool(all(b > a for a, b in zip(rates, rates[1:]))),
        "grade_psi_train_vs_next": psi,
        "seconds": {"features": t_features, "pipeline": t_pipeline, "floor": t_floor,
                    "ratio": t_pipeline / t_floor, "cpu_pipeline": cpu_pipeline, "cpu_floor": cpu_floor,
                    "cpu_ratio": cpu_pipeline / cpu_floor, "load_average": load,
                    "compare_all_rows": before,
                    "runs": [dict(zip(("pipeline", "floor", "cpu_pipeline", "cpu_floor"), r)) for r in runs],
                    "ratio_of_minimums": min(r[0] for r in runs) / min(r[1] for r in runs),
                    "floor_one_thread": t_floor_1, "ratio_to_floor_one_thread": t_pipeline / t_floor_1,
                    "cpu_floor_one_thread": cpu_floor_1, "cpu_ratio_to_floor_one_thread": cpu_pipeline / cpu_floor_1,
                    "cpu_ratio_of_minimums": min(r[2] for r in runs) / min(r[3] for r in runs)},
    }
    ok_auc = all(v["base"]["ratio"] is None or v["base"]["ratio"] >= TARGET_AUC for v in per_segment.values())
    out["targets"] = {"auc_ratio_next_cohort": ok_auc, "grades_increase": out["bad_rate_strictly_increasing"],
                      "psi": psi < TARGET_PSI, "time": out["seconds"]["ratio"] <= TARGET_TIME}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=float) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2, default=float))
    return 0 if all(out["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
