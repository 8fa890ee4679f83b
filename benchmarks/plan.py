"""Benchmark of campaign planning at province scale, and of the channel plan against the exact LP.

Part 1 - the pipeline on 1,039,229 synthetic users (the size of the source's
model sample), 14 branches, 4 channels, capacities from daily capacity x 30
days and a budget that binds:

    contact policy -> control split -> channel plan -> executor assignment -> list rows

Part 2 - optimality: random instances of 1,000 / 5,000 / 20,000 users drawn
from the same population (capacities and budget scaled to the sample), the
scalable :func:`~workbench.campaign.plan_channels` against the LP optimum of
:func:`~workbench.campaign.solve_exact_lp` (HiGHS), which bounds every plan.

Run::

    .venv/bin/python benchmarks/plan.py
    .venv/bin/python benchmarks/plan.py --users 200000 --lp-sizes 1000 5000 --json out.json

Figures are printed; nothing here is a pass/fail test.  Times are wall-clock
on whatever else the machine is doing.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.campaign import (  # noqa: E402
    apply_contact_policy, assign_control, assign_executors, build_list, build_problem, evaluate_plan,
    plan_channels, solve_exact_lp,
)
from workbench.data.tables import BRANCHES  # noqa: E402

BRANCH_IDS = np.array([b[0] for b in BRANCHES])
#: Share of the province's users per branch (Urumqi is the capital and the largest).
BRANCH_WEIGHTS = np.r_[0.28, 0.04, 0.03, 0.03, 0.09, 0.10, 0.05, 0.04, 0.03, 0.08, 0.09, 0.03, 0.08, 0.03]
CHANNELS = pd.DataFrame({
    "channel": ["sms", "wap_push", "outbound_call", "ivr"],
    "unit_cost": [0.05, 0.10, 3.0, 0.3],            # yuan per contact
    "response_multiplier": [1.6, 1.7, 5.0, 2.5],
})
#: Daily contacts per 10,000 users of a branch, per channel.
DAILY_PER_10K = {"sms": 900.0, "wap_push": 400.0, "outbound_call": 12.0, "ivr": 60.0}
DAYS = 30
VALUE_PER_ORDER = 30.0   # 3 yuan a month, kept ~10 months
BUDGET = 90_000.0        # yuan: binds (the capacities alone would spend ~120,000)
AS_OF = pd.Timestamp("2026-09-01")


def population(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Synthetic candidates and the side tables the contact policy needs."""
    rng = np.random.default_rng(seed)
    branch = rng.choice(BRANCH_IDS, size=n, p=BRANCH_WEIGHTS / BRANCH_WEIGHTS.sum())
    # organic order probability (the calibrated score): rare, skewed; Urumqi a little higher
    score = rng.beta(0.5, 40.0, size=n) * np.where(branch == "urumqi", 1.3, 1.0)
    users = pd.DataFrame({
        "subscriber_id": rng.permutation(np.arange(10_000_000, 10_000_000 + n)),
        "branch_id": pd.Series(branch, dtype="str"),
        "score": np.clip(score, 0, 1),
    })
    ids = users["subscriber_id"].to_numpy()
    n_contacts = int(1.5 * n)
    history = pd.DataFrame({
        "subscriber_id": rng.choice(ids, size=n_contacts),
        "contact_date": AS_OF - pd.to_timedelta(rng.integers(1, 60, size=n_contacts), unit="D"),
    })
    side = {
        "product_subscribers": rng.choice(ids, size=int(0.037 * n), replace=False),
        "dnd": rng.choice(ids, size=int(0.03 * n), replace=False),
        "contact_history": history,
        "handset_capable": pd.Series(rng.random(n) < 0.85, index=ids),
    }
    return users, side


def capacity_table(users: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    sizes = users["branch_id"].value_counts()
    rows = [(b, c, np.floor(sizes.get(b, 0) / 10_000 * per * DAYS * scale))
            for b in BRANCH_IDS for c, per in DAILY_PER_10K.items()]
    return pd.DataFrame(rows, columns=["branch_id", "channel", "capacity"])


def executors_for(users: pd.DataFrame) -> dict:
    """Callers per branch in proportion to its size; platforms for the automatic channels."""
    sizes = users["branch_id"].value_counts()
    ex: dict = {}
    for b in BRANCH_IDS:
        ex[(b, "outbound_call")] = [f"{b}-caller-{i:02d}" for i in range(max(2, int(sizes.get(b, 0) // 15_000)))]
        for c in ("sms", "wap_push", "ivr"):
            ex[(b, c)] = [f"{b}-{c}-platform"]
    return ex


def timed(label: str, fn, timings: dict):
    t0 = time.perf_counter()
    out = fn()
    timings[label] = time.perf_counter() - t0
    print(f"  {label:<22s} {timings[label]:7.2f} s", flush=True)
    return out


def pipeline(n: int, seed: int) -> dict:
    print(f"Part 1: campaign planning for {n:,} users")
    users, side = population(n, seed)
    t: dict[str, float] = {}
    eligible, funnel = timed("contact policy", lambda: apply_contact_policy(
        users, as_of=AS_OF, recent_days=7, max_contacts_month=3, **side), t)
    split = timed("control split", lambda: assign_control(eligible, share=0.1, seed=seed), t)
    target = split[split["group"] == "target"]
    problem = timed("build problem", lambda: build_problem(
        target, CHANNELS, value_per_order=VALUE_PER_ORDER, budget=BUDGET, capacity=capacity_table(target)), t)
    plan = timed("plan_channels", lambda: plan_channels(problem, progress=False), t)
    assigned = timed("assign executors", lambda: assign_executors(plan.plan, executors_for(target)), t)
    rows = timed("build list rows", lambda: build_list(assigned, edition="news", free_months=1), t)
    core = t["contact policy"] + t["control split"] + t["plan_channels"] + t["assign executors"]
    print(f"  {'policy+control+plan+assign':<22s} {core:7.2f} s")
    ev = evaluate_plan(problem, plan.plan)
    spend = ev["spend"]
    print(f"  eligible {len(eligible):,} of {n:,}; target {len(target):,}; "
          f"control {int((split['group'] == 'control').sum()):,}")
    print(f"  contacted {len(plan.plan):,}; spend {spend:,.0f} of budget {BUDGET:,.0f} yuan; "
          f"budget price mu = {plan.info['mu']:.3f}")
    print(f"  expected incremental orders {plan.plan['expected_orders'].sum():,.1f}; "
          f"net value {plan.objective:,.0f} yuan")
    print(f"  certified gap to the LP bound (dual value) {100 * plan.gap:.5f} %")
    print(f"  capacity violations {ev['over_capacity']:.0f}; over budget {ev['over_budget']:.2f}; "
          f"max channels per user {ev['max_channels_per_user']:.0f}")
    print("  plan_channels phases (cumulative s): "
          + ", ".join(f"{k} {v:.2f}" for k, v in plan.info["seconds"].items()))
    by_channel = plan.summary.groupby("channel")[["users", "capacity", "expected_orders", "cost"]].sum()
    print(by_channel.to_string(float_format=lambda x: f"{x:,.1f}"))
    return {"users": n, "eligible": len(eligible), "target": len(target), "contacted": len(plan.plan),
            "seconds": t, "core_seconds": core, "objective": plan.objective, "upper_bound": plan.upper_bound,
            "gap_pct": 100 * plan.gap, "spend": spend, "budget": BUDGET, "rows": len(rows),
            "funnel": funnel.to_dict("list")}


def lp_gaps(sizes: list[int], seed: int, population_size: int) -> list[dict]:
    print("Part 2: plan_channels against the exact LP (HiGHS)")
    users, _ = population(max(sizes) * 2, seed + 1)
    results = []
    print(f"  {'users':>7s} {'LP value':>12s} {'plan value':>12s} {'gap %':>8s} {'plan s':>7s} {'LP s':>7s}")
    for i, m in enumerate(sizes):
        sample = users.sample(n=m, random_state=seed + i)
        scale = m / population_size
        problem = build_problem(sample, CHANNELS, value_per_order=VALUE_PER_ORDER, budget=BUDGET * scale,
                                capacity=capacity_table(sample))
        t0 = time.perf_counter()
        lp = solve_exact_lp(problem)
        t_lp = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = plan_channels(problem, progress=False)
        t_plan = time.perf_counter() - t0
        gap = 100 * (lp.objective - plan.objective) / lp.objective
        print(f"  {m:>7,d} {lp.objective:>12,.2f} {plan.objective:>12,.2f} {gap:>8.4f} {t_plan:>7.2f} {t_lp:>7.2f}")
        results.append({"users": m, "lp": lp.objective, "plan": plan.objective, "gap_pct": gap,
                        "plan_seconds": t_plan, "lp_seconds": t_lp})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_039_229)
    parser.add_argument("--lp-sizes", type=int, nargs="*", default=[1_000, 5_000, 20_000])
    parser.add_argument("--seed", type=int, default=20260901)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    figures = {"pipeline": pipeline(args.users, args.seed),
               "lp": lp_gaps(args.lp_sizes, args.seed, args.users) if args.lp_sizes else []}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
