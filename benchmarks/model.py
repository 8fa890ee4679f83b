"""Benchmark of the province target model on a generated 1,039,229-subscriber province and its ground truth.

Usage::

    python benchmarks/model.py                          # /tmp/prov1m9 (9 months), generated if missing
    python benchmarks/model.py --data DIR [--truth DIR] [--threads N] [--both] [--ceiling-seeds 0 1 2] [--json FILE]
    python benchmarks/model.py --data /tmp/prov1m --months 6   # 6 months: too short to compare, the look-alike
    python benchmarks/model.py --method conversion --final-rounds 52 --no-ceiling --no-reasons   # time only

What is measured (one process):

0. **The method the pipeline chooses** (``--method auto``, the default):
   ``ProvincePipeline(...).choose()`` - with 6 months of history before ``T``
   both methods are trained at ``T - 3`` and evaluated on the same potential
   customers and labels at ``T``, the higher out-of-time AUC wins
   (:func:`workbench.models.province.choose_method`); reported with its time,
   apart from the pipeline's.
1. **Accuracy against the truth** of the chosen method's final model
   (:func:`workbench.models.province.province_model`, the estimator's defaults),
   scoring every potential customer of ``T`` as the pipeline does; the truth's
   realised next-period label ``next_stable_mobile_newspaper`` is the outcome and
   ``p_stable_next_mobile_newspaper`` the oracle.
2. **The observable ceiling** (``--no-ceiling`` skips it): the oracle knows what no
   data shows - each person's awareness and an idiosyncratic uptake term
   (``docs/synthetic-province.md``) - so part of its AUC is out of reach of any
   model of the observed data.  A LightGBM with the final model's parameters is
   taught the true probabilities themselves (cross-entropy on soft labels) on one
   half of the potential customers; model, ceiling and oracle are compared on
   the realised labels of the other half.  Targets: AUC >= 0.98 x and top-decile
   lift >= 0.95 x the ceiling.  Both are ratios of noisy figures (the lift of a
   list holding a few thousand positives), so the ceiling is repeated over
   ``--ceiling-seeds`` (another random half and bagging seed each) and the mean,
   range and standard deviation of the ratios are printed.
3. **Time of features -> train -> score the whole base** with the chosen method,
   through the pipeline's code (:func:`run_pipeline`; the final model boosts the
   rounds its out-of-time validation stopped at, on the whole sample, as
   ``ProvincePipeline.train`` does after ``validate``), against a **floor**
   measured in the same run: for every snapshot the method reads (``T``; the
   conversion also ``T - 3``) the bare DuckDB aggregation of
   ``benchmarks/features.py`` and a bare statement of the label
   (:func:`bare_status_sql`), each fetched through Arrow without stacking the columns into
   2-D blocks (faster than ``.df()``), the matrices LightGBM reads built from the training
   rows and the potential customers (``TargetModel.encode``: one pass per column, what any
   LightGBM run on a DuckDB result must do), ``lightgbm.train`` with the model's own
   parameters for the same number of rounds on that matrix, and ``Booster.predict`` on
   the potential customers.  Target: <= 1.2 x.  Also printed: the ratio against a floor
   handed both matrices outside its clock (the floor of earlier sessions).
4. Reported beside it: the time of the rows of ``scores.parquet`` (top-3 reasons
   by TreeSHAP for the best 100,000 users, editions for everyone), and with
   ``--both`` the other method's final model against the truth and the ceiling.

Figures are printed and written as JSON (``benchmarks/out/model.json`` by default).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SUBSCRIBERS = 1_039_229
DEFAULT_DATA = Path("/tmp/prov1m9")
PRODUCT = "mobile_newspaper"
TABLES = ("branches", "handset_models", "vas_products", "subscribers", "monthly_usage", "vas_orders", "handset_events")
TARGET_AUC, TARGET_LIFT, TARGET_TIME = 0.98, 0.95, 1.2


def ensure_province(folder: Path, truth: Path, months: int = 9) -> None:
    """Generate the province with the CLI unless ``folder`` and ``truth`` already hold a complete one."""
    complete = (all((folder / f"{t}.parquet").is_file() for t in TABLES)
                and (truth / "subscriber_truth.parquet").is_file())
    if complete:
        print(f"reusing province {folder}", flush=True)
        return
    cmd = [sys.executable, "-m", "workbench", "sample", "--subscribers", str(SUBSCRIBERS), "--out", str(folder),
           "--truth-out", str(truth), "--months", str(months), "--no-progress"]
    print("generating:", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)


def run_pipeline(con, snapshot: str, n_jobs: int | None, method: str = "lookalike", rounds: int | None = None) -> dict:
    """features -> train -> score of the final model of ``method``, timed step by step, through the pipeline's code.

    ``rounds``: the rounds the out-of-time validation of the choice stopped at, which the
    pipeline's final model reuses (``ProvincePipeline(final_rounds="validated")``, trained on
    the whole sample); None (no choice made, ``--method`` given) = the estimator's own early
    stopping on a held-out tenth.

    Look-alike: the snapshot of ``T`` (features, status, sample, preferences), the model
    sample of ``T``, the potential customers of ``T`` aligned to the horizon.  Conversion:
    the snapshots of ``T - 3`` and ``T``, the potential customers of ``T - 3`` labelled by
    holding the product at ``T``, the potential customers of ``T`` as they are.
    """
    import numpy as np

    from workbench.models.province import ProvincePipeline
    from workbench.models.province_inputs import align_to_horizon

    out = {}
    with ProvincePipeline(con, PRODUCT, snapshot, 3, method=method, n_jobs=n_jobs, progress=False,
                          final_rounds=rounds or "early_stopping") as pipe:
        t0 = time.perf_counter()
        data = pipe.snapshot_data()
        X, y = pipe.training_frame()
        t1 = time.perf_counter()
        model = pipe._model(len(X), pipe._final_rounds()).fit(X, y)
        t2 = time.perf_counter()
        pot = data.sample.potential_ids
        base = align_to_horizon(data.frame.loc[pot], pipe.align_months)
        score = model.predict_proba(base)[:, 1]
        t3 = time.perf_counter()
        before = pipe.plan.train_snapshot if method == "conversion" else None
    out.update(method=method, features_s=t1 - t0, train_s=t2 - t1, score_s=t3 - t2, total_s=t3 - t0,
               rows=int(len(X)), positives=int(np.sum(y)), base=int(len(pot)), inputs=int(X.shape[1]),
               rounds=int(model.best_iteration_), params={k: model.params_[k] for k in (
                   "learning_rate", "num_leaves", "min_child_samples", "reg_lambda", "validation",
                   "early_stopping_rounds")},
               composition=data.sample.composition.to_dict())
    return {"timing": out, "model": model, "X": X, "y": np.asarray(y), "base": base, "ids": pot.to_numpy(),
            "score": score, "data": data, "snapshots": [s for s in (before, snapshot) if s]}


def bare_status_sql(snapshot: str, family: str = PRODUCT, stable_months: int = 3) -> str:
    """Active and stable flags of the family at the snapshot, as one hand-written DuckDB statement.

    Spells run from an order to the next unsubscribe of the same product; spells of
    the family that overlap or touch form one stay; stable = a stay that started on
    or before the last day of the month ``stable_months - 1`` before the snapshot and
    is open after the snapshot month's last day.
    """
    import pandas as pd

    s = pd.Timestamp(snapshot + "-01")
    e = s + pd.offsets.MonthEnd(0)
    since = (s - pd.DateOffset(months=stable_months - 1)) + pd.offsets.MonthEnd(0)
    E, L = f"DATE '{e:%Y-%m-%d}'", f"DATE '{since:%Y-%m-%d}'"
    return f"""
WITH ev AS (
  SELECT o.subscriber_id, o.product_id, o.event_date::DATE AS d, o.event_type,
         lag(o.event_type) OVER w AS prev_type,
         min(CASE WHEN o.event_type = 'unsubscribe' THEN o.event_date::DATE END)
             OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_unsub
  FROM vas_orders o JOIN vas_products p USING (product_id)
  WHERE p.family = '{family}' AND o.event_date::DATE <= {E}
  WINDOW w AS (PARTITION BY o.subscriber_id, o.product_id ORDER BY o.event_date::DATE, o.event_type = 'unsubscribe',
               o.event_id)
), sp AS (
  SELECT subscriber_id, d AS start_date, coalesce(next_unsub, DATE '9999-12-31') AS end_date FROM ev
  WHERE event_type = 'order' AND (prev_type IS NULL OR prev_type = 'unsubscribe')
), g AS (
  SELECT *, sum(CASE WHEN start_date > prev_end THEN 1 ELSE 0 END) OVER (PARTITION BY subscriber_id
            ORDER BY start_date, end_date ROWS UNBOUNDED PRECEDING) AS island
  FROM (SELECT *, coalesce(max(end_date) OVER (PARTITION BY subscriber_id ORDER BY start_date, end_date
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), DATE '0001-01-01') AS prev_end FROM sp)
), st AS (
  SELECT subscriber_id, min(start_date) AS since, max(end_date) AS until FROM g GROUP BY subscriber_id, island
)
SELECT s.subscriber_id, coalesce(bool_or(st.until > {E}), false) AS active,
       coalesce(bool_or(st.until > {E} AND st.since <= {L}), false) AS stable
FROM subscribers s LEFT JOIN st USING (subscriber_id)
WHERE s.join_date::DATE <= {E}
GROUP BY s.subscriber_id ORDER BY s.subscriber_id"""


def run_floor(con, snapshots: list[str], model, X, y, base, threads: int | None) -> dict:
    """Bare DuckDB aggregation (features and the label of every snapshot the method reads) + lightgbm.train (same
    params, same rounds, same matrix) + predict."""
    import lightgbm as lgb

    from features import bare_sql  # benchmarks/features.py

    from workbench.models.schema import CATEGORICAL

    cat_idx = [j for j, f in enumerate(model.features_) if f.kind == CATEGORICAL]
    params = dict(model.booster_.params)
    params.pop("early_stopping_round", None)
    params.pop("num_iterations", None)
    if threads:
        params["num_threads"] = threads
    def fetch(sql):   # the fastest bare fetch (as the pipeline's): Arrow, each column its own block, no stacking
        return con.sql(sql).to_arrow_table().to_pandas(split_blocks=True, self_destruct=True)

    t0 = time.perf_counter()
    for snapshot in snapshots:
        feats = fetch(bare_sql(snapshot, 6))
        status = fetch(bare_status_sql(snapshot))
    t1 = time.perf_counter()
    # the matrix LightGBM reads, from the training frame: any run on a DuckDB result builds it (one pass per column)
    train_matrix = model.encode(X)
    e1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        ds = lgb.Dataset(train_matrix, label=y.astype(float), categorical_feature=cat_idx,
                         params={"verbose": -1, "max_cat_threshold": params.get("max_cat_threshold", 32),
                                 "min_data_per_group": params.get("min_data_per_group", 100)})
        booster = lgb.train(params, ds, num_boost_round=model.best_iteration_)
    t2 = time.perf_counter()
    base_matrix = model.encode(base)
    e2 = time.perf_counter()
    booster.predict(base_matrix)
    t3 = time.perf_counter()
    encode = (e1 - t1) + (e2 - t2)
    return {"features_s": t1 - t0, "train_s": t2 - t1, "score_s": t3 - t2, "total_s": t3 - t0,
            "encode_s": encode, "total_given_matrices_s": t3 - t0 - encode,
            "feature_rows": int(len(feats)), "feature_columns": int(feats.shape[1]),
            "stable": int(status["stable"].sum()), "active": int(status["active"].sum())}


def observable_ceiling(model, frame, ids, truth_dir: Path, threads: int | None, *, list_size: float = 0.1,
                       others: dict | None = None, seed: int = 0) -> dict:
    """How close any model of these inputs can come to the oracle: LightGBM taught the oracle itself.

    The oracle knows what no data shows (each person's awareness and an idiosyncratic
    uptake term, ``docs/synthetic-province.md``), so its AUC is out of reach of
    every model of the observed data.  To measure how far out of reach, a
    LightGBM with the final model's parameters is trained on the *true
    probabilities* (cross-entropy on soft labels) of the potential customers with
    an odd ``subscriber_id`` - the best function of the model's inputs that
    boosting can find, given the answer - and all three are compared on the
    realised labels of the even half.  ``seed`` > 0 draws another random half
    (and another bagging seed): the spread of the ratios over seeds is the
    noise of the verdict (two top-decile lifts of a few thousand positives).
    """
    import lightgbm as lgb
    import numpy as np

    from workbench.data.synth import load_truth
    from workbench.metrics.classification import auc, lift_at
    from workbench.models.schema import take_rows

    fam = PRODUCT
    truth, _ = load_truth(truth_dir, columns=["subscriber_id", f"next_stable_{fam}", f"p_stable_next_{fam}"])
    truth = truth.set_index("subscriber_id").loc[ids]
    y = truth[f"next_stable_{fam}"].to_numpy(dtype=np.int8)
    p = truth[f"p_stable_next_{fam}"].to_numpy(dtype=np.float64)
    learn = ids % 2 == 1 if seed == 0 else np.random.default_rng(seed).random(len(ids)) < 0.5
    matrix = model.encode(frame)
    cat_idx = [j for j, f in enumerate(model.features_) if f.kind == "categorical"]
    params = {k: v for k, v in model.booster_.params.items() if k not in ("early_stopping_round", "num_iterations",
                                                                          "scale_pos_weight", "metric")}
    params.update(objective="cross_entropy", metric="cross_entropy", verbose=-1, seed=seed)
    if threads:
        params["num_threads"] = threads
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(learn)
    stop = rng.random(len(rows)) < 0.1
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        dtrain = lgb.Dataset(take_rows(matrix, rows[~stop]), label=p[rows[~stop]], categorical_feature=cat_idx)
        dval = lgb.Dataset(take_rows(matrix, rows[stop]), label=p[rows[stop]], categorical_feature=cat_idx,
                           reference=dtrain)
        booster = lgb.train(params, dtrain, num_boost_round=2000, valid_sets=[dval],
                            callbacks=[lgb.early_stopping(50, verbose=False)])
    test = ~learn
    out = {"users": int(test.sum()), "positives": int(y[test].sum()), "rounds": int(booster.best_iteration),
           "seconds": time.perf_counter() - t0, "seed": seed}
    contenders = {"model": model.predict_proba(frame.iloc[np.flatnonzero(test)])[:, 1],
                  "ceiling": booster.predict(take_rows(matrix, np.flatnonzero(test)),
                                             num_iteration=booster.best_iteration),
                  "oracle": p[test]}
    for name, scores in (others or {}).items():       # other contenders' scores of the same users, in ids order
        contenders[name] = scores[test]
    for name, s in contenders.items():
        at = lift_at(y[test], s, list_size)
        out[name] = {"auc": auc(y[test], s), "lift": at["lift"]}
    for name in (n for n in contenders if n != "oracle"):
        for k in ("auc", "lift"):
            out[name][f"{k}_vs_oracle"] = out[name][k] / out["oracle"][k]
            out[name][f"{k}_vs_ceiling"] = out[name][k] / out["ceiling"][k]
    return out


def ratio_spread(ceilings: list[dict], names) -> dict:
    """Mean, min, max and standard deviation over ceiling seeds of each contender's AUC and lift / the ceiling's."""
    import numpy as np

    out = {}
    for name in names:
        for k in ("auc", "lift"):
            v = np.array([c[name][f"{k}_vs_ceiling"] for c in ceilings])
            out[f"{name}_{k}"] = {"mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
                                  "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "n": int(len(v))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"province folder (default {DEFAULT_DATA})")
    parser.add_argument("--months", type=int, default=9,
                        help="months of a province generated when --data is missing (default 9: enough history "
                             "for the pipeline to compare both methods out of time)")
    parser.add_argument("--truth", type=Path, help="truth folder (default <data>_truth)")
    parser.add_argument("--snapshot", help="snapshot month (default the last month of the data)")
    parser.add_argument("--threads", type=int, help="DuckDB and LightGBM threads (default all cores)")
    parser.add_argument("--method", choices=("auto", "lookalike", "conversion"), default="auto",
                        help="auto (default): the method the pipeline chooses by its out-of-time comparison")
    parser.add_argument("--both", action="store_true",
                        help="also train the other method's final model and compare it with the truth and ceiling")
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip the observable ceiling (a LightGBM taught the true probabilities)")
    parser.add_argument("--ceiling-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="halves / seeds of the ceiling (0 = odd ids learn, even ids test); the spread of the "
                             "ratios over them is the verdict's noise (default 0 1 2)")
    parser.add_argument("--no-reasons", action="store_true", help="skip timing the reason codes of the base")
    parser.add_argument("--final-rounds", type=int,
                        help="with --method: the rounds the final model boosts (those a previous run's out-of-time "
                             "validation stopped at, as the pipeline reuses them); default: early stopping")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "out" / "model.json")
    args = parser.parse_args(argv)

    import pandas as pd

    from workbench.data.source import connect
    from workbench.demo.benchmark import truth_benchmark
    from workbench.models.province import ProvincePipeline
    from workbench.models.sample import last_data_month

    truth_dir = args.truth or args.data.with_name(args.data.name + "_truth")
    ensure_province(args.data, truth_dir, args.months)
    con = connect(args.data, threads=args.threads)
    snapshot = args.snapshot or last_data_month(con)
    print(f"snapshot {snapshot}, {os.cpu_count()} cores, threads {args.threads or 'all'}", flush=True)
    result = {"data": str(args.data), "snapshot": snapshot, "cores": os.cpu_count(), "threads": args.threads,
              "targets": {"auc_ratio": TARGET_AUC, "lift_ratio": TARGET_LIFT, "time_ratio": TARGET_TIME}}

    method = args.method
    if method == "auto":
        t0 = time.perf_counter()
        with ProvincePipeline(con, PRODUCT, snapshot, 3, n_jobs=args.threads, progress=False) as chooser:
            choice = chooser.choose()
            v = chooser.validation
        result["choice"] = {**choice.to_dict(), "seconds": time.perf_counter() - t0,
                            "out_of_time": v.summary().to_dict(orient="records") if v is not None else None}
        method = choice.method
        print(f"method chosen: {method} ({choice.reason}, {result['choice']['seconds']:.0f} s)", flush=True)
        for name, fig in choice.candidates.items():
            print(f"  out of time {name:10s} AUC {fig['auc']:.4f}  lift {fig['lift']:.3f}  "
                  f"({fig['rows']:,} rows, {fig['rounds']} rounds)", flush=True)
        del chooser

    validated = result["choice"]["candidates"] if "choice" in result else {}
    pipe = run_pipeline(con, snapshot, args.threads, method,
                        validated.get(method, {}).get("rounds") or args.final_rounds)
    t = pipe["timing"]
    print(f"pipeline ({method}): features {t['features_s']:.1f} s, train {t['train_s']:.1f} s ({t['rounds']} rounds), "
          f"score {t['score_s']:.1f} s, total {t['total_s']:.1f} s", flush=True)
    floor = run_floor(con, pipe["snapshots"], pipe["model"], pipe["X"], pipe["y"], pipe["base"], args.threads)
    print(f"floor:    features {floor['features_s']:.1f} s, train {floor['train_s']:.1f} s, "
          f"score {floor['score_s']:.1f} s, total {floor['total_s']:.1f} s", flush=True)
    print(f"          (of which building its two matrices {floor['encode_s']:.1f} s: "
          f"{floor['total_given_matrices_s']:.1f} s if they were handed to it)", flush=True)
    result.update(method=method, pipeline=t, floor=floor, time_ratio=t["total_s"] / floor["total_s"],
                  time_ratio_given_matrices=t["total_s"] / floor["total_given_matrices_s"])

    scores = pd.DataFrame({"subscriber_id": pipe["ids"], "score": pipe["score"]})
    bench = truth_benchmark(scores, truth_dir, PRODUCT, list_size=0.1)
    m, o = bench.iloc[0], bench.iloc[1]
    result["truth"] = bench.to_dict(orient="records")
    others = {}
    if args.both:
        other = "conversion" if method == "lookalike" else "lookalike"
        alt = run_pipeline(con, snapshot, args.threads, other, validated.get(other, {}).get("rounds"))
        assert (alt["ids"] == pipe["ids"]).all()
        others[other] = alt["score"]
        ob = truth_benchmark(pd.DataFrame({"subscriber_id": alt["ids"], "score": alt["score"]}), truth_dir,
                             PRODUCT, list_size=0.1)
        result["other"] = {"method": other, "timing": alt["timing"], "truth": ob.iloc[0].to_dict()}
        print(f"{other} ({alt['timing']['rows']:,} rows, {alt['timing']['rounds']} rounds): AUC "
              f"{ob.iloc[0]['auc']:.4f}, lift10 {ob.iloc[0]['lift']:.3f}", flush=True)
        del alt
    if not args.no_ceiling:
        ceilings = []
        for seed in args.ceiling_seeds:
            c = observable_ceiling(pipe["model"], pipe["base"], pipe["ids"], truth_dir, args.threads, others=others,
                                   seed=seed)
            ceilings.append(c)
            print(f"observable ceiling, seed {seed} ({c['rounds']} rounds, {c['seconds']:.0f} s), on {c['users']:,} "
                  f"held-out users ({c['positives']:,} positives):", flush=True)
            for name in ("model", *others, "ceiling", "oracle"):
                extra = (f"  = {c[name]['auc_vs_ceiling']:.3f} x / {c[name]['lift_vs_ceiling']:.3f} x ceiling"
                         if name not in ("ceiling", "oracle") else "")
                print(f"  {name:10s} AUC {c[name]['auc']:.4f}  lift10 {c[name]['lift']:.3f}{extra}", flush=True)
        result["ceiling"] = ceilings[0]
        result["ceilings"] = ceilings
        result["ceiling_spread"] = ratio_spread(ceilings, ("model", *others))
    if not args.no_reasons:
        from workbench.models.preference import edition_catalogue
        from workbench.models.province import DEFAULT_REASON_ROWS, score_base

        t0 = time.perf_counter()
        score_base(pipe["model"], pipe["base"], pipe["data"].preferences, edition_catalogue(con, PRODUCT),
                   reasons=3, reason_rows=DEFAULT_REASON_ROWS)
        result["reasons_s"] = time.perf_counter() - t0
        result["reason_rows"] = DEFAULT_REASON_ROWS
        print(f"scores.parquet rows (top-3 reasons for the best {DEFAULT_REASON_ROWS:,}, editions for all "
              f"{len(pipe['base']):,}): {result['reasons_s']:.1f} s", flush=True)
    con.close()

    print()
    print(f"method {method}: {t['rows']:,} training rows ({t['positives']:,} positives); base scored: {t['base']:,}; "
          f"inputs {t['inputs']}")
    print(f"truth ({int(m['positives']):,} new stable subscribers among {int(m['users']):,}):")
    print(f"  AUC    model {m['auc']:.4f}  oracle {o['auc']:.4f}  ratio {m['auc_ratio']:.3f}")
    print(f"  lift10 model {m['lift']:.3f}  oracle {o['lift']:.3f}  ratio {m['lift_ratio']:.3f}")
    if "ceiling_spread" in result:
        c = result["ceiling"]
        print(f"  observable ceiling (LightGBM taught the true probabilities, held-out half): AUC "
              f"{c['ceiling']['auc_vs_oracle']:.3f} x oracle, lift10 {c['ceiling']['lift_vs_oracle']:.3f} x oracle")
        for name in ("model", *others):
            a, li = result["ceiling_spread"][f"{name}_auc"], result["ceiling_spread"][f"{name}_lift"]
            label = method if name == "model" else name
            print(f"  {label}: AUC {a['mean']:.3f} x the ceiling (seeds: {a['min']:.3f}-{a['max']:.3f}, sd "
                  f"{a['sd']:.3f}; target >= {TARGET_AUC}), lift10 {li['mean']:.3f} x ({li['min']:.3f}-"
                  f"{li['max']:.3f}, sd {li['sd']:.3f}; target >= {TARGET_LIFT}) over {a['n']} seed(s)")
    print(f"time: pipeline {t['total_s']:.1f} s vs floor {floor['total_s']:.1f} s = {result['time_ratio']:.2f} x "
          f"(target <= {TARGET_TIME}); against a floor handed its matrices "
          f"{result['time_ratio_given_matrices']:.2f} x")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
