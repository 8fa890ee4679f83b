"""Benchmark of the province target model on a generated 1,039,229-subscriber province and its ground truth.

Usage::

    python benchmarks/model.py                          # /tmp/prov1m, generated with `workbench sample` if missing
    python benchmarks/model.py --data DIR [--truth DIR] [--threads N] [--validate] [--json FILE]
    python benchmarks/model.py --data /tmp/prov1m9 --months 9 --conversion --validate   # both methods, validated

What is measured (one process, one run of each contender):

1. **Accuracy against the truth.**  The final model is the province pipeline's:
   the look-alike sample of the last month ``T`` (potential customers + stable
   subscribers, features of :func:`workbench.models.province_inputs.build_snapshot`),
   :func:`workbench.models.province.province_model` (the estimator's defaults, early-stopping
   patience 20 on a sample this size).  It scores
   every potential customer of ``T`` (as they will look 3 months on, as the
   pipeline does: :func:`~workbench.models.province_inputs.align_to_horizon`); the
   truth's realised next-period label
   ``next_stable_mobile_newspaper`` is the outcome and the truth's
   ``p_stable_next_mobile_newspaper`` the oracle.  Targets: model AUC >= 0.98 x
   oracle AUC and top-decile lift >= 0.95 x the oracle's.
2. **Time of features -> train -> score the whole base**: ``build_snapshot``
   (feature table, family status, model sample, preference model),
   ``TargetModel.fit`` (early stopping included) and ``predict_proba`` of every
   potential customer (alignment included), against a **floor** measured in the same run: the bare
   DuckDB aggregation of ``benchmarks/features.py`` (one hand-written
   statement, fetched to pandas) and a bare statement of the label (active and
   stable flags, :func:`bare_status_sql`), ``lightgbm.train`` with the model's own
   parameters for the same number of rounds on the same matrix, and
   ``Booster.predict`` on the potential customers.  Target: <= 1.5 x.
3. Reported beside it, not part of the comparison: the time of the rows of
   ``scores.parquet`` (top-3 reasons by TreeSHAP for the best 100,000 users, best
   and runner-up edition for everyone), and with ``--validate`` the
   out-of-time validation (train at ``T - 3``, evaluate at ``T``) of the model
   and its two baselines.
4. **The observable ceiling** (``--no-ceiling`` skips it): the oracle knows what no
   data shows - each person's awareness and an idiosyncratic uptake term
   (``docs/synthetic-province.md``) - so part of its AUC is out of reach of any
   model of the observed data.  A LightGBM with the final model's parameters is
   taught the true probabilities themselves (cross-entropy on soft labels) on the
   potential customers with an odd ``subscriber_id``; model, ceiling and oracle are
   compared on the realised labels of the even half.  The ceiling's ratio to the
   oracle is the most any model of these inputs can reach.
5. With ``--conversion``, a model of observed conversions (potential customers
   of ``T - 3`` labelled by holding the product at ``T``) beside the look-alike,
   on the truth and against the ceiling.

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
DEFAULT_DATA = Path("/tmp/prov1m")
PRODUCT = "mobile_newspaper"
TABLES = ("branches", "handset_models", "vas_products", "subscribers", "monthly_usage", "vas_orders", "handset_events")
TARGET_AUC, TARGET_LIFT, TARGET_TIME = 0.98, 0.95, 1.5


def ensure_province(folder: Path, truth: Path, months: int = 6) -> None:
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


def run_pipeline(con, snapshot: str, n_jobs: int | None) -> dict:
    """features -> train -> score, timed step by step."""
    import numpy as np

    from workbench.models.province import province_model
    from workbench.models.province_inputs import align_to_horizon, build_snapshot

    out = {}
    t0 = time.perf_counter()
    data = build_snapshot(con, PRODUCT, snapshot, 3)
    t1 = time.perf_counter()
    X = data.frame.loc[data.sample.rows.index]
    y = data.sample.target
    model = province_model(len(X), n_jobs=n_jobs).fit(X, y)
    t2 = time.perf_counter()
    pot = data.sample.potential_ids
    base = align_to_horizon(data.frame.loc[pot], 3)
    score = model.predict_proba(base)[:, 1]
    t3 = time.perf_counter()
    out.update(features_s=t1 - t0, train_s=t2 - t1, score_s=t3 - t2, total_s=t3 - t0,
               rows=int(len(X)), positives=int(y.sum()), base=int(len(pot)), inputs=int(X.shape[1]),
               rounds=int(model.best_iteration_), params={k: model.params_[k] for k in (
                   "learning_rate", "num_leaves", "min_child_samples", "reg_lambda", "validation",
                   "early_stopping_rounds")},
               composition=data.sample.composition.to_dict())
    return {"timing": out, "model": model, "X": X, "y": np.asarray(y), "base": base, "ids": pot.to_numpy(),
            "score": score, "data": data}


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


def run_floor(con, snapshot: str, model, X, y, base, threads: int | None) -> dict:
    """Bare DuckDB aggregation (features and the label) + lightgbm.train (same params, same rounds, same matrix)
    + predict."""
    import lightgbm as lgb

    from features import bare_sql  # benchmarks/features.py

    from workbench.models.schema import CATEGORICAL

    train_matrix = model.encode(X)
    base_matrix = model.encode(base)
    cat_idx = [j for j, f in enumerate(model.features_) if f.kind == CATEGORICAL]
    params = dict(model.booster_.params)
    params.pop("early_stopping_round", None)
    params.pop("num_iterations", None)
    if threads:
        params["num_threads"] = threads
    t0 = time.perf_counter()
    feats = con.execute(bare_sql(snapshot, 6)).df()
    status = con.execute(bare_status_sql(snapshot)).df()
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        ds = lgb.Dataset(train_matrix, label=y.astype(float), categorical_feature=cat_idx,
                         params={"verbose": -1, "max_cat_threshold": params.get("max_cat_threshold", 32),
                                 "min_data_per_group": params.get("min_data_per_group", 100)})
        booster = lgb.train(params, ds, num_boost_round=model.best_iteration_)
    t2 = time.perf_counter()
    booster.predict(base_matrix)
    t3 = time.perf_counter()
    return {"features_s": t1 - t0, "train_s": t2 - t1, "score_s": t3 - t2, "total_s": t3 - t0,
            "feature_rows": int(len(feats)), "feature_columns": int(feats.shape[1]),
            "stable": int(status["stable"].sum()), "active": int(status["active"].sum())}


def observable_ceiling(model, frame, ids, truth_dir: Path, threads: int | None, *, list_size: float = 0.1,
                       others: dict | None = None) -> dict:
    """How close any model of these inputs can come to the oracle: LightGBM taught the oracle itself.

    The oracle knows what no data shows (each person's awareness and an idiosyncratic
    uptake term, ``docs/synthetic-province.md``), so its AUC is out of reach of
    every model of the observed data.  To measure how far out of reach, a
    LightGBM with the final model's parameters is trained on the *true
    probabilities* (cross-entropy on soft labels) of the potential customers with
    an odd ``subscriber_id`` - the best function of the model's inputs that
    boosting can find, given the answer - and all three are compared on the
    realised labels of the even half.
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
    learn = ids % 2 == 1
    matrix = model.encode(frame)
    cat_idx = [j for j, f in enumerate(model.features_) if f.kind == "categorical"]
    params = {k: v for k, v in model.booster_.params.items() if k not in ("early_stopping_round", "num_iterations",
                                                                          "scale_pos_weight", "metric")}
    params.update(objective="cross_entropy", metric="cross_entropy", verbose=-1)
    if threads:
        params["num_threads"] = threads
    rng = np.random.default_rng(0)
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
           "seconds": time.perf_counter() - t0}
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


def conversion_contender(con, snapshot: str, data, threads: int | None) -> dict:
    """The pipeline's other method, ``ProvincePipeline(method="conversion")``, on the same province.

    Potential customers of ``T - 3`` with their features then, labelled 1 when they
    hold the product at ``T``; it scores the potential customers of ``T`` as they are.
    Its out-of-time validation needs 6 months before ``T``, so it is not run here.
    """
    from workbench.models.province import ProvincePipeline

    t0 = time.perf_counter()
    with ProvincePipeline(con, PRODUCT, snapshot, 3, method="conversion", n_jobs=threads, progress=False) as pipe:
        pipe._data[snapshot] = data                  # the snapshot of T is already built
        model = pipe.train()
        pot = data.sample.potential_ids
        score = model.predict_proba(data.frame.loc[pot])[:, 1]
        rows = dict(pipe.training_rows)
    return {"score": score, "ids": pot.to_numpy(), "rows": rows["rows"], "positives": rows["positives"],
            "rounds": int(model.best_iteration_), "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="province folder (default /tmp/prov1m)")
    parser.add_argument("--months", type=int, default=6,
                        help="months of a province generated when --data is missing (9 lets the conversion model "
                             "be validated out of time), default 6")
    parser.add_argument("--truth", type=Path, help="truth folder (default <data>_truth)")
    parser.add_argument("--snapshot", help="snapshot month (default the last month of the data)")
    parser.add_argument("--threads", type=int, help="DuckDB and LightGBM threads (default all cores)")
    parser.add_argument("--validate", action="store_true", help="also run the out-of-time validation")
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip the observable ceiling (a LightGBM taught the true probabilities)")
    parser.add_argument("--conversion", action="store_true",
                        help="also train a model of observed conversions (T-3 -> T) and compare it")
    parser.add_argument("--no-reasons", action="store_true", help="skip timing the reason codes of the base")
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

    pipe = run_pipeline(con, snapshot, args.threads)
    t = pipe["timing"]
    print(f"pipeline: features {t['features_s']:.1f} s, train {t['train_s']:.1f} s ({t['rounds']} rounds), "
          f"score {t['score_s']:.1f} s, total {t['total_s']:.1f} s", flush=True)
    floor = run_floor(con, snapshot, pipe["model"], pipe["X"], pipe["y"], pipe["base"], args.threads)
    print(f"floor:    features {floor['features_s']:.1f} s, train {floor['train_s']:.1f} s, "
          f"score {floor['score_s']:.1f} s, total {floor['total_s']:.1f} s", flush=True)

    scores = pd.DataFrame({"subscriber_id": pipe["ids"], "score": pipe["score"]})
    bench = truth_benchmark(scores, truth_dir, PRODUCT, list_size=0.1)
    m, o = bench.iloc[0], bench.iloc[1]
    result = {
        "data": str(args.data), "snapshot": snapshot, "cores": os.cpu_count(), "threads": args.threads,
        "pipeline": t, "floor": floor, "time_ratio": t["total_s"] / floor["total_s"],
        "truth": bench.to_dict(orient="records"),
        "targets": {"auc_ratio": TARGET_AUC, "lift_ratio": TARGET_LIFT, "time_ratio": TARGET_TIME},
    }
    others = {}
    if args.conversion:
        conv = conversion_contender(con, snapshot, pipe["data"], args.threads)
        assert (conv["ids"] == pipe["ids"]).all()
        others["conversion"] = conv["score"]
        cb = truth_benchmark(pd.DataFrame({"subscriber_id": conv["ids"], "score": conv["score"]}), truth_dir, PRODUCT,
                             list_size=0.1)
        result["conversion"] = {k: v for k, v in conv.items() if k not in ("score", "ids")}
        result["conversion"]["truth"] = cb.iloc[0].to_dict()
        print(f"conversion model ({conv['rows']:,} potential customers of T-3, {conv['positives']:,} converted, "
              f"{conv['rounds']} rounds, {conv['seconds']:.0f} s): AUC {cb.iloc[0]['auc']:.4f} "
              f"({cb.iloc[0]['auc_ratio']:.3f} x oracle), lift10 {cb.iloc[0]['lift']:.3f} "
              f"({cb.iloc[0]['lift_ratio']:.3f} x oracle)", flush=True)
    if not args.no_ceiling:
        c = result["ceiling"] = observable_ceiling(pipe["model"], pipe["base"], pipe["ids"], truth_dir, args.threads,
                                                           others=others)
        print(f"observable ceiling ({c['rounds']} rounds, {c['seconds']:.0f} s), on {c['users']:,} held-out users "
              f"({c['positives']:,} positives):", flush=True)
        for name in ("model", *others, "ceiling", "oracle"):
            print(f"  {name:10s} AUC {c[name]['auc']:.4f}  lift10 {c[name]['lift']:.3f}", flush=True)
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
    if args.validate:
        from workbench.errors import ParameterError

        methods = ("lookalike", "conversion") if args.conversion else ("lookalike",)
        for method in methods:
            t0 = time.perf_counter()
            with ProvincePipeline(con, PRODUCT, snapshot, 3, method=method, n_jobs=args.threads,
                                  progress=False) as p:
                p._data[snapshot] = pipe["data"]
                try:
                    v = p.validate()
                except ParameterError as exc:          # conversion: not enough history for its validation
                    result.setdefault("out_of_time_skipped", {})[method] = str(exc)
                    print(f"out-of-time validation of {method}: not run - {exc}", flush=True)
                    continue
            key = "out_of_time" if method == "lookalike" else f"out_of_time_{method}"
            result[key] = {"plan": v.plan.to_dict(), "outcomes": v.outcomes,
                           "summary": v.summary().to_dict(orient="records"), "seconds": time.perf_counter() - t0}
            print(f"out-of-time validation of {method}:\n" + v.summary().to_string(index=False), flush=True)
    con.close()

    print()
    print(f"sample at {snapshot}: {t['rows']:,} = {t['composition']['potential']:,} + {t['positives']:,} "
          f"({t['composition']['target_share']:.3%}); base scored: {t['base']:,}; inputs {t['inputs']}")
    print(f"truth ({int(m['positives']):,} new stable subscribers among {int(m['users']):,}):")
    print(f"  AUC   model {m['auc']:.4f}  oracle {o['auc']:.4f}  ratio {m['auc_ratio']:.3f}  (target >= {TARGET_AUC})")
    print(f"  lift10 model {m['lift']:.3f}  oracle {o['lift']:.3f}  ratio {m['lift_ratio']:.3f}  "
          f"(target >= {TARGET_LIFT})")
    if "ceiling" in result:
        c = result["ceiling"]
        print(f"  observable ceiling (LightGBM taught the true probabilities, held-out half): AUC "
              f"{c['ceiling']['auc_vs_oracle']:.3f} x oracle, lift10 {c['ceiling']['lift_vs_oracle']:.3f} x oracle; "
              f"the model reaches {c['model']['auc_vs_ceiling']:.3f} x / {c['model']['lift_vs_ceiling']:.3f} x "
              "the ceiling")
        for name in others:
            print(f"  {name}: {c[name]['auc_vs_ceiling']:.3f} x / {c[name]['lift_vs_ceiling']:.3f} x the ceiling "
                  f"({c[name]['auc_vs_oracle']:.3f} x / {c[name]['lift_vs_oracle']:.3f} x the oracle)")
    print(f"time: pipeline {t['total_s']:.1f} s vs floor {floor['total_s']:.1f} s = {result['time_ratio']:.2f} x "
          f"(target <= {TARGET_TIME})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
