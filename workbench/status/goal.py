"""Goal setting (template 02): from the status findings to a checked campaign goal.

A goal says how many **new stable subscribers** a campaign must bring over a
period, why (the problem the data showed), and whether the sized potential can
deliver it.

1. :func:`diagnose` reads the findings of template 01
   (:mod:`workbench.status.analysis`) for known problems, each an indicator
   with an alert line (thresholds are parameters):

   ================== ============================================== =========
   problem            indicator                                      alert
   ================== ============================================== =========
   capital_gap        capital's penetration / prefectures'           >= 1.5
   free_month_leavers free-month leavers / unsubscribes (recent)     >= 0.25
   early_churn        share of orders lost before they become stable >= 0.2
   slow_growth        monthly net adds / subscribers                 <= 0.01
   ================== ============================================== =========

   Severity is ``indicator / alert`` for an upper alert line and
   ``2 - indicator / alert`` for a lower one: 1 on the line, above 1 past it.
   The most severe problem past its line is the goal's reason.

2. :func:`propose_goal` sets the target: ``ceil(ambition x S)`` new stable
   subscribers over ``period_months`` (``S`` = current stable subscribers;
   ``ambition`` 0.1 means +10 % stable subscribers), or a target given outright.

3. :func:`check_goal` checks it against the potential.  With ``L`` look-alikes
   (non-subscribers in high-potential score bands), ``c_h`` their observed
   conversion to stable subscribers over ``h`` months, and a period of ``P``
   months::

       c = min(1, c_h x P / h)          expected conversion over the period
       E = L x c                        expected new stable subscribers
       r = N / L                        conversion the target needs

   ``N <= E``: **feasible** (the potential delivers it at today's conversion);
   ``E < N <= stretch x E``: **ambitious** (the campaign must lift conversion
   up to ``stretch`` times); otherwise, or when ``N > L``: **not reachable**
   with the expected conversion.

Everything here is pure (dicts and DataFrames in, dicts and DataFrames out)
except :func:`write_goal` / :func:`read_goal`, the I/O at the edge.  The goal's
reason is a sentence (it is written to ``goal.json`` and carried into the
campaign design); every other word and table of the report is in
:mod:`workbench.report.t02`.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from workbench.checks import check_int, check_num
from workbench.errors import ParameterError
from workbench.runs import GOAL_FILE  # the run folder's file names live in workbench.runs

__all__ = [
    "GOAL_FILE", "GOAL_VERSION", "PROBLEMS", "DEFAULT_ALERTS", "VERDICTS", "DEFAULT_STRETCH",
    "diagnose", "goal_reason", "check_goal", "propose_goal", "goal_check",
    "write_goal", "read_goal",
]

#: Version of the goal layout.
GOAL_VERSION = 1
#: Problems :func:`diagnose` looks for, in the order ties are broken.
PROBLEMS: tuple[str, ...] = ("capital_gap", "free_month_leavers", "early_churn", "slow_growth")
#: Alert line of each problem: (threshold, direction); "above" flags indicator >= threshold.
DEFAULT_ALERTS: dict[str, tuple[float, str]] = {
    "capital_gap": (1.5, "above"),
    "free_month_leavers": (0.25, "above"),
    "early_churn": (0.2, "above"),
    "slow_growth": (0.01, "below"),
}
#: Verdicts of :func:`check_goal`.
VERDICTS: tuple[str, ...] = ("feasible", "ambitious", "not_reachable")
#: How many times the expected conversion a campaign may still hope to reach ("ambitious").
DEFAULT_STRETCH = 1.5

_PROBLEM_COLUMNS = ["problem", "indicator", "alert", "direction", "severity", "flagged"]


# ----------------------------------------------------------------- checks
def _section(findings, name: str) -> Mapping:
    if not isinstance(findings, Mapping):
        raise ParameterError.invalid("findings", "the dict of status findings (workbench.status.analysis)",
                                     type(findings).__name__)
    part = findings.get(name)
    if not isinstance(part, Mapping):
        raise ParameterError.invalid("findings", f"status findings holding the {name!r} summary", sorted(findings))
    return part


def _alerts(alerts: Mapping | None) -> dict[str, tuple[float, str]]:
    merged = dict(DEFAULT_ALERTS)
    for name, value in (alerts or {}).items():
        if name not in DEFAULT_ALERTS:
            raise ParameterError.invalid("alerts", f"a mapping with keys from {list(PROBLEMS)}", name)
        merged[name] = (check_num(f"alerts.{name}", value, 0, lo_open=True), DEFAULT_ALERTS[name][1])
    return merged


# ----------------------------------------------------------------- diagnosis
def _indicators(findings: Mapping) -> dict[str, float | None]:
    kpis = _section(findings, "kpis")
    pen = _section(findings, "penetration")
    ret = _section(findings, "retention")
    base, per_month = kpis.get("subscribers_before"), kpis.get("net_adds_per_month")
    return {
        "capital_gap": pen.get("capital_ratio"),
        "free_month_leavers": kpis.get("free_month_leaver_share"),
        "early_churn": ret.get("lost_before_stable"),
        "slow_growth": per_month / base if base and per_month is not None else None,
    }


def diagnose(findings: Mapping, alerts: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The known problems the status findings show, most severe first.

    Parameters
    ----------
    findings : dict
        Status findings (:func:`workbench.status.analysis.status_findings`) with
        the ``kpis``, ``penetration`` and ``retention`` summaries.
    alerts : mapping, optional
        ``{problem: threshold}`` replacing thresholds of :data:`DEFAULT_ALERTS`.

    Returns
    -------
    pandas.DataFrame
        ``problem, indicator, alert, direction, severity, flagged``, one row per
        problem whose indicator could be computed, sorted by decreasing severity
        (ties in :data:`PROBLEMS` order).

    Raises
    ------
    ParameterError
        When the findings lack a summary or ``alerts`` names an unknown problem
        or a non-positive threshold.

    Examples
    --------
    >>> f = {"kpis": {"free_month_leaver_share": 0.5, "subscribers_before": 100, "net_adds_per_month": 2},
    ...      "penetration": {"capital_ratio": 1.2}, "retention": {"lost_before_stable": None}}
    >>> diagnose(f).round(3)[["problem", "severity", "flagged"]].values.tolist()
    [['free_month_leavers', 2.0, True], ['capital_gap', 0.8, False], ['slow_growth', 0.0, False]]
    """
    limits = _alerts(alerts)
    rows = []
    for name, value in _indicators(findings).items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        alert, direction = limits[name]
        severity = value / alert if direction == "above" else 2.0 - value / alert
        rows.append({"problem": name, "indicator": float(value), "alert": alert, "direction": direction,
                     "severity": float(severity), "flagged": bool(severity >= 1.0)})
    out = pd.DataFrame(rows, columns=_PROBLEM_COLUMNS)
    out["order"] = [PROBLEMS.index(p) for p in out["problem"]]
    out = out.sort_values(["severity", "order"], ascending=[False, True], kind="mergesort").drop(columns="order")
    out = out.reset_index(drop=True).astype({"indicator": "float64", "alert": "float64", "severity": "float64",
                                             "flagged": "bool"})
    return out


def _reason_values(problem: str | None, findings: Mapping, lang: str) -> dict:
    from workbench.data.tables import branch_name
    from workbench.i18n import t
    from workbench.status.analysis import CAPITAL

    kpis, pen = _section(findings, "kpis"), _section(findings, "penetration")
    ret, pot = _section(findings, "retention"), _section(findings, "potential")
    product = t(f"family.{findings['product']}", lang=lang)
    if problem == "capital_gap":
        return {"product": product, "capital": branch_name(CAPITAL[0], lang),
                "capital_penetration": pen["capital"]["penetration"],
                "prefecture_penetration": pen["prefectures"]["penetration"], "ratio": pen["capital_ratio"]}
    if problem == "free_month_leavers":
        return {"product": product, "share": kpis["free_month_leaver_share"], "leavers": kpis["free_month_leavers"],
                "unsubscribes": kpis["unsubscribes"], "months": kpis["months"]}
    if problem == "early_churn":
        return {"product": product, "lost": ret["lost_before_stable"], "orders": ret["orders"],
                "stable_months": findings["stable_months"]}
    if problem == "slow_growth":
        return {"product": product, "growth": kpis["net_adds_per_month"] / kpis["subscribers_before"],
                "net_adds": kpis["net_adds_per_month"], "subscribers": kpis["subscribers_before"]}
    return {"product": product, "stable": pot["stable"]}


def goal_reason(findings: Mapping, problems: pd.DataFrame | None = None, lang: str | None = None,
                alerts: Mapping[str, float] | None = None) -> dict:
    """Why the goal: the most severe problem past its alert line, as a sentence with its numbers.

    Parameters
    ----------
    findings : dict
        Status findings (all five summaries).
    problems : pandas.DataFrame, optional
        :func:`diagnose` output (computed with ``alerts`` when omitted).
    lang : {"zh", "en"}, optional
        Language of the sentence; the current one when omitted.
    alerts : mapping, optional
        See :func:`diagnose`.

    Returns
    -------
    dict
        ``problem`` (a :data:`PROBLEMS` entry, or ``None`` when nothing is past
        its line), ``indicator``, ``alert``, ``severity``, ``also`` (the other
        flagged problems, most severe first) and ``text`` (catalogue entry
        ``goal.reason.<problem>`` or ``goal.reason.none``, filled in).
    """
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if problems is None:
        problems = diagnose(findings, alerts)
    if not isinstance(problems, pd.DataFrame) or not set(_PROBLEM_COLUMNS) <= set(problems.columns):
        raise ParameterError.invalid("problems", f"diagnose() output with columns {_PROBLEM_COLUMNS}",
                                     getattr(problems, "columns", type(problems).__name__))
    flagged = problems[problems["flagged"]].sort_values("severity", ascending=False, kind="mergesort")
    if flagged.empty:
        return {"problem": None, "indicator": None, "alert": None, "severity": None, "also": [],
                "text": t("goal.reason.none", lang=lang, **_reason_values(None, findings, lang))}
    top = flagged.iloc[0]
    code = str(top["problem"])
    return {"problem": code, "indicator": float(top["indicator"]), "alert": float(top["alert"]),
            "severity": float(top["severity"]), "also": [str(p) for p in flagged["problem"].iloc[1:]],
            "text": t(f"goal.reason.{code}", lang=lang, **_reason_values(code, findings, lang))}


# ----------------------------------------------------------------- the check against the potential
def check_goal(target: int, potential: Mapping, period_months: int, *, stretch: float = DEFAULT_STRETCH,
               conversion_rate: float | None = None) -> dict:
    """Check a target of new stable subscribers against the sized potential (see the module docstring).

    Parameters
    ----------
    target : int
        New stable subscribers the campaign must bring (``N``).
    potential : dict
        The ``potential`` summary of the status findings
        (:func:`workbench.status.analysis.summarise_potential`): ``lookalikes``,
        ``conversion_rate`` (over ``horizon_months``) and ``horizon_months``.
    period_months : int
        Length of the goal period (``P``).
    stretch : float
        Largest lift of conversion an "ambitious" goal may need (> 1).
    conversion_rate : float, optional
        Expected conversion of the look-alikes over the period, e.g. from a past
        campaign, instead of the observed one scaled to the period.

    Returns
    -------
    dict
        ``target, lookalikes, observed_conversion, horizon_months,
        period_months, conversion_source`` ("observed" or "given"),
        ``conversion_rate`` (``c``), ``expected_new_stable`` (``E``),
        ``stretch``, ``stretch_limit`` (``stretch x E``), ``required_conversion``
        (``N / L``; ``None`` without look-alikes), ``target_over_expected``
        (``N / E``; ``None`` when ``E`` is 0) and ``verdict`` (:data:`VERDICTS`).

    Raises
    ------
    ParameterError
        Naming ``target``, ``potential``, ``period_months``, ``stretch`` or
        ``conversion_rate`` when out of range.

    Examples
    --------
    >>> pot = {"lookalikes": 1000, "conversion_rate": 0.06, "horizon_months": 6}
    >>> c = check_goal(40, pot, 3)
    >>> round(c["conversion_rate"], 4), round(c["expected_new_stable"], 6), c["verdict"]
    (0.03, 30.0, 'ambitious')
    """
    n = check_int("target", target, 1)
    need = ("lookalikes", "conversion_rate", "horizon_months")
    if not isinstance(potential, Mapping) or not set(need) <= set(potential):
        raise ParameterError.invalid("potential", f"the potential summary with {list(need)}",
                                     sorted(potential) if isinstance(potential, Mapping) else potential)
    lookalikes = check_int("potential.lookalikes", potential["lookalikes"], 0)
    horizon = check_int("potential.horizon_months", potential["horizon_months"], 1)
    observed = potential["conversion_rate"]
    observed = 0.0 if observed is None else check_num("potential.conversion_rate", observed, 0, 1)
    months = check_int("period_months", period_months, 1)
    stretch = check_num("stretch", stretch, 1, lo_open=True)
    if conversion_rate is None:
        rate, source = min(1.0, observed * months / horizon), "observed"
    else:
        rate, source = check_num("conversion_rate", conversion_rate, 0, 1, lo_open=True), "given"
    expected = lookalikes * rate
    if expected <= 0 or n > lookalikes:
        verdict = "not_reachable"
    elif n <= expected:
        verdict = "feasible"
    elif n <= stretch * expected:
        verdict = "ambitious"
    else:
        verdict = "not_reachable"
    return {
        "target": n, "lookalikes": lookalikes, "observed_conversion": observed, "horizon_months": horizon,
        "period_months": months, "conversion_source": source, "conversion_rate": rate,
        "expected_new_stable": expected, "stretch": stretch, "stretch_limit": stretch * expected,
        "required_conversion": n / lookalikes if lookalikes else None,
        "target_over_expected": n / expected if expected > 0 else None, "verdict": verdict,
    }


# ----------------------------------------------------------------- the goal
def _period(snapshot: str, start, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    from workbench.features._db import add_months, month_end, parse_month

    first = add_months(parse_month(snapshot, "snapshot"), 1) if start in (None, "") else parse_month(start, "start")
    return first, month_end(add_months(first, months - 1))


def propose_goal(findings: Mapping, *, period_months: int = 3, ambition: float = 0.1, target: int | None = None,
                 start=None, stretch: float = DEFAULT_STRETCH, conversion_rate: float | None = None,
                 alerts: Mapping[str, float] | None = None, lang: str | None = None) -> dict:
    """A goal of new stable subscribers over a period, with its reason and its check against the potential.

    Parameters
    ----------
    findings : dict
        Status findings of template 01 (all five summaries).
    period_months : int
        Length of the goal period in months.
    ambition : float
        Growth of the stable subscriber base the goal aims for over the period
        (0.1 = +10 %); the target is ``ceil(ambition x stable subscribers)``, at least 1.
    target : int, optional
        The target given outright (``ambition`` is then not used).
    start : "YYYY-MM", optional
        First month of the period (default: the month after the snapshot).
    stretch, conversion_rate
        See :func:`check_goal`.
    alerts : mapping, optional
        See :func:`diagnose`.
    lang : {"zh", "en"}, optional
        Language of the reason's sentence.

    Returns
    -------
    dict
        JSON-ready: ``version, product, snapshot, branches, language,
        target_stable_subscribers, period_start, period_end`` (ISO days),
        ``period_months, ambition`` (``None`` when ``target`` was given),
        ``stable_subscribers`` (at the snapshot), ``reason``
        (:func:`goal_reason`), ``problems`` (:func:`diagnose` rows),
        ``potential`` (the summary checked against) and ``check`` (:func:`check_goal`).

    Raises
    ------
    ParameterError
        Naming ``findings``, ``period_months``, ``ambition``, ``target``,
        ``start`` or a parameter of :func:`check_goal`.

    Examples
    --------
    >>> goal = propose_goal(findings, period_months=3, ambition=0.1)   # doctest: +SKIP
    >>> goal["target_stable_subscribers"], goal["check"]["verdict"]     # doctest: +SKIP
    (71, 'ambitious')
    """
    from workbench.i18n import get_language

    lang = lang or get_language()
    pot = _section(findings, "potential")
    months = check_int("period_months", period_months, 1)
    stable = check_int("findings.potential.stable", pot.get("stable"), 0)
    if target is None:
        amb = check_num("ambition", ambition, 0, lo_open=True)
        n = max(1, math.ceil(round(amb * stable, 9)))
    else:
        amb, n = None, check_int("target", target, 1)
    first, last = _period(findings.get("snapshot"), start, months)
    problems = diagnose(findings, alerts)
    keep = ("base", "stable", "nonsubscribers", "lookalikes", "high_bands", "k", "expected_new_stable",
            "conversion_rate", "horizon_months")
    return {
        "version": GOAL_VERSION, "product": findings.get("product"), "snapshot": findings.get("snapshot"),
        "branches": list(findings.get("branches") or []), "language": lang,
        "target_stable_subscribers": n, "period_start": f"{first:%Y-%m-%d}", "period_end": f"{last:%Y-%m-%d}",
        "period_months": months, "ambition": amb, "stable_subscribers": stable,
        "reason": goal_reason(findings, problems, lang),
        "problems": problems.to_dict(orient="records"),
        "potential": {k: pot.get(k) for k in keep},
        "check": check_goal(n, pot, months, stretch=stretch, conversion_rate=conversion_rate),
    }


# ----------------------------------------------------------------- the goal's check
def goal_check(goal) -> Mapping:
    """The check of a goal (:func:`check_goal`'s dict inside :func:`propose_goal`'s output).

    Raises
    ------
    ParameterError
        When ``goal`` is not the dict :func:`propose_goal` returns.
    """
    if not isinstance(goal, Mapping) or not isinstance(goal.get("check"), Mapping):
        raise ParameterError.invalid("goal", "the dict propose_goal() returns",
                                     sorted(goal) if isinstance(goal, Mapping) else type(goal).__name__)
    return goal["check"]


_check_of = goal_check  # the name write_goal uses


# ----------------------------------------------------------------- the goal file (I/O at the edge)
def write_goal(goal: Mapping, run_dir: str | os.PathLike) -> Path:
    """Write the goal as ``run_dir/goal.json`` (the folder is created) for the campaign design; return the path.

    ``run_dir`` is a path or a :class:`workbench.runs.RunFolder`; the write is recorded in its manifest.
    """
    from workbench.runs import RunFolder

    _check_of(goal)
    return RunFolder.of(run_dir).write_json("goal", goal)


def read_goal(run_dir: str | os.PathLike) -> dict:
    """The goal template 02 wrote to ``run_dir`` (a path or a :class:`workbench.runs.RunFolder`).

    Raises
    ------
    workbench.runs.RunFileMissing
        (a FileNotFoundError) When ``run_dir`` holds no goal: run template 02 first.
    """
    from workbench.runs import RunFolder

    return RunFolder.of(run_dir).read_goal()
