"""The province path of the target-user model: features -> sample -> train -> evaluate -> explain -> save -> score.

:class:`ProvincePipeline` runs the look-alike model of one product family on a
province's data (any source :func:`workbench.data.connect` reads), step by
step so that template 03 can narrate each step, or all at once with
:meth:`ProvincePipeline.run` (a tqdm bar over the steps):

1. **inputs** (:meth:`~ProvincePipeline.snapshot_data`) - at a snapshot month:
   the feature table of :func:`workbench.features.build_features` (data dated on
   or before the snapshot month's last day only), without the features that
   record the subscription itself (:func:`workbench.models.sample.excluded_features`),
   plus the smoothed content preferences of
   :class:`~workbench.models.preference.PreferenceModel` fitted on the same
   window (``content_pref_<category>`` and ``content_pref_edition_top``, the
   preference for the best-fitting edition) and the monthly bill without VAS
   spend (:data:`DERIVED`); and the model sample (potential customers + stable
   subscribers).
2. **out-of-time validation** (:meth:`~ProvincePipeline.validate`) - the
   headline figures: the model and the two baselines
   (:class:`~workbench.models.LogisticBaseline`, :class:`~workbench.models.RulesBaseline`)
   are trained on the sample of ``T - k`` and scored on its potential customers
   (as they will look ``stable_months`` on, :func:`align_to_horizon`),
   labelled by whether they are stable subscribers at ``T``
   (:func:`workbench.models.sample.out_of_time_plan`).  Baselines are trained on
   at most ``baseline_rows`` rows (a stratified random subset) to keep the run short.
3. **final model** (:meth:`~ProvincePipeline.train`) - trained on the whole sample of ``T``
   (:func:`province_model`: the estimator's defaults) for the rounds the out-of-time
   validation's model of the same method stopped at (``final_rounds="validated"``); without
   a validation, early stopping with a shorter patience on province-scale samples.
4. **explanations** (:meth:`~ProvincePipeline.explain`) - global importance
   (gain, and mean |SHAP| over ``explain_rows`` sampled rows) and rule examples
   grown on the final model's score over at most ``rule_rows`` sampled rows,
   whose statistics are then recomputed on the whole model sample of ``T``.
5. **scores** (:meth:`~ProvincePipeline.score`) - every potential customer of
   ``T`` (aligned to the horizon): score, rank, decile, top-3 reasons in words,
   best edition and runner-up.
6. **preference model** (:meth:`~ProvincePipeline.preference`) - held-out-month
   evaluation and the agreement of the matched edition with the edition current
   subscribers chose.
7. **save** (:meth:`~ProvincePipeline.save`) - the registry folder
   ``<run_dir>/model/`` (:func:`workbench.models.save_model`, plus
   ``province.json``: product, snapshots, window, excluded features and the
   fitted preference model, so :func:`score_province` can score a later month
   without pickle) and ``<run_dir>/scores.parquet`` for the campaign design.

The inputs themselves (columns, frame, horizon alignment, one snapshot's data and
the display names of the inputs) live in :mod:`workbench.models.province_inputs`; the scored
base and the re-scoring of a saved model in :mod:`workbench.models.province_scoring`;
what template 03 says about a pipeline in :mod:`workbench.report.t03`; the
comparison with the synthetic province's ground truth in :mod:`workbench.demo.benchmark`.
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.features._db import check_family, check_positive_int, parse_month
from workbench.models.preference import (
    PreferenceModel, edition_agreement, edition_catalogue, evaluate_preference, match_editions,
)
from workbench.models.province_inputs import (
    DEFAULT_WINDOW, SnapshotData, align_to_horizon, build_snapshot, input_columns,
)
from workbench.models.province_scoring import (  # re-exported: the scores belong to the province path
    DEFAULT_REASON_ROWS, PROVINCE_FILE, SCORE_COLUMNS, load_province_model, score_base, score_province,
)
from workbench.models.sample import (
    DEFAULT_STABLE_MONTHS, OutOfTimePlan, excluded_features, family_categories, last_data_month,
    out_of_time_labels, out_of_time_plan,
)

__all__ = [
    "TRAINING_METHODS",
    "PIPELINE_METHODS",
    "MethodChoice",
    "choose_method",
    "DEFAULT_LIST_SIZE",
    "SCORE_COLUMNS",
    "PROVINCE_FILE",
    "MODEL_NAMES",
    "LARGE_SAMPLE",
    "LARGE_PATIENCE",
    "province_model",
    "DEFAULT_REASON_ROWS",
    "score_base",
    "Validation",
    "Explanation",
    "ProvincePipeline",
    "load_province_model",
    "score_province",
]

#: What the model learns from: ``"lookalike"`` (DOMAIN.md's method: stable subscribers against potential
#: customers at ``T``) or ``"conversion"`` (potential customers of ``T - k`` against whether they held the
#: product at ``T``: who *became* a subscriber, from how they looked before).
TRAINING_METHODS: tuple[str, str] = ("lookalike", "conversion")
#: What ``ProvincePipeline(method=...)`` accepts: ``"auto"`` (the default) validates both methods out of time
#: when the data hold enough history and keeps the better one (:func:`choose_method`), else the look-alike.
PIPELINE_METHODS: tuple[str, str, str] = ("auto", *TRAINING_METHODS)
#: Campaign list size used for lift and capture: a share of the potential customers (or a count).
DEFAULT_LIST_SIZE = 0.1
#: Names of the compared models (keys of the validation results; ``model.name.<name>`` labels).
MODEL_NAMES: tuple[str, str, str] = ("model", "logistic", "rules")
_STEPS = ("validate", "train", "explain", "score", "preference", "save")
_ID = "subscriber_id"


# ------------------------------------------------------------------ results
@dataclass
class Validation:
    """Out-of-time validation: the model and the baselines on the same potential customers.

    Attributes
    ----------
    plan : OutOfTimePlan
    composition : SampleComposition
        The training sample at ``T - k``.
    outcomes : dict
        Potential customers of ``T - k`` by what they were at ``T``
        (``stable``, ``recent``, ``potential``).
    results : dict
        ``{name: evaluate_classifier(...)}`` for ``model``, ``logistic``, ``rules``.
    list_size : int or float
        The list size used for lift and capture.
    rounds : int
        Boosting rounds of the model trained at ``T - k``.
    """

    plan: OutOfTimePlan
    composition: object
    outcomes: dict
    results: dict
    list_size: object
    rounds: int = 0

    def summary(self) -> pd.DataFrame:
        """One row per model: ``model``, ``auc``, ``pr_auc``, ``ks``, ``lift``, ``capture``, ``list_share``,
        ``brier``."""
        rows = []
        for name, r in self.results.items():
            rows.append({"model": name, "auc": r["auc"], "pr_auc": r["pr_auc"], "ks": r["ks"],
                         "lift": r["at_list"]["lift"], "capture": r["at_list"]["capture"],
                         "list_share": r["at_list"]["share"], "brier": r["brier"]})
        out = pd.DataFrame(rows)
        out["model"] = out["model"].astype("str")
        return out

    def gains(self) -> dict[str, pd.DataFrame]:
        """``{name: gains table by decile}`` of the three models."""
        return {name: r["gains"] for name, r in self.results.items()}

    def calibration(self) -> dict[str, pd.DataFrame]:
        """``{name: calibration table}`` of the three models."""
        return {name: r["calibration"] for name, r in self.results.items()}

    def to_dict(self) -> dict:
        """JSON-ready form (gains and calibration tables as lists of rows)."""
        return {"plan": self.plan.to_dict(), "composition": self.composition.to_dict(), "outcomes": self.outcomes,
                "list_size": self.list_size, "rounds": self.rounds,
                "results": {n: {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v)
                                for k, v in r.items()} for n, r in self.results.items()}}


@dataclass
class Explanation:
    """Global importance and rule examples of the final model.

    Attributes
    ----------
    importance : DataFrame
        :func:`workbench.models.global_importance` (with ``mean_abs_shap``).
    rules : list of Rule
        Rule examples with statistics on the whole model sample of ``T``.
    rows : dict
        Rows used: ``shap`` and ``rules`` (sampled), ``evaluated`` (the model sample).
    """

    importance: pd.DataFrame
    rules: list
    rows: dict = field(default_factory=dict)


@dataclass
class MethodChoice:
    """Which training method the pipeline uses, and why.

    Attributes
    ----------
    method : {"lookalike", "conversion"}
        The method used for the final model.
    reason : {"evidence", "history", "requested"}
        ``evidence``: both were validated out of time on the same users and labels and
        ``method`` ranked them better (:func:`choose_method`); ``history``: the data are too
        short to validate the conversion method, so the look-alike is used; ``requested``:
        the caller fixed the method.
    candidates : dict
        ``{method: out-of-time figures}`` (``auc``, ``pr_auc``, ``ks``, ``lift``, ``capture``,
        ``brier``, ``rows``, ``positives``, ``rounds``) of every method validated.
    first_month, needed_from : str, optional
        With ``reason="history"``: the first month of the data and the month the
        conversion's out-of-time validation would need data from.
    """

    method: str
    reason: str
    candidates: dict = field(default_factory=dict)
    first_month: str | None = None
    needed_from: str | None = None

    def table(self) -> pd.DataFrame:
        """One row per validated method: ``method``, the out-of-time figures and ``chosen``."""
        rows = [{"method": m, **fig, "chosen": m == self.method} for m, fig in self.candidates.items()]
        out = pd.DataFrame(rows)
        if len(out):
            out["method"] = out["method"].astype("str")
        return out

    def to_dict(self) -> dict:
        """JSON-ready form (what ``metrics.json`` and ``province.json`` record as ``method_choice``)."""
        return {"method": self.method, "reason": self.reason, "rule": CHOICE_RULE, "candidates": self.candidates,
                "first_month": self.first_month, "needed_from": self.needed_from}


#: How :func:`choose_method` ranks the methods (recorded with the choice).
CHOICE_RULE = "higher out-of-time AUC on the same users and labels; a tie (< 0.001) keeps the look-alike"
_TIE = 0.001


def choose_method(candidates: dict) -> str:
    """The better method of an out-of-time comparison: the higher AUC, the look-alike on a tie.

    AUC rather than the top-decile lift: both methods are scored on the same users
    and labels, and the AUC uses the whole ranking, while the lift of one list
    rests on a few hundred positives of a validation month and swings by several
    per cent between samples (``benchmarks/model.py`` measures that spread).  A
    tie (< 0.001) keeps the look-alike: it needs less history and is the
    source's method.

    Parameters
    ----------
    candidates : dict
        ``{method: {"auc": ..., ...}}`` with ``lookalike`` and ``conversion``.

    Examples
    --------
    >>> choose_method({"lookalike": {"auc": 0.81}, "conversion": {"auc": 0.83}})
    'conversion'
    >>> choose_method({"lookalike": {"auc": 0.81}, "conversion": {"auc": 0.8105}})
    'lookalike'
    """
    missing = [m for m in TRAINING_METHODS if m not in candidates]
    if missing:
        raise ParameterError.invalid("candidates", f"out-of-time figures of {TRAINING_METHODS}", sorted(candidates))
    gain = float(candidates["conversion"]["auc"]) - float(candidates["lookalike"]["auc"])
    return "conversion" if gain >= _TIE else "lookalike"


def _check_list_size(list_size):
    if isinstance(list_size, bool):
        raise ParameterError.invalid("list_size", "a share in (0, 1] or a count >= 1", list_size)
    if isinstance(list_size, (int, np.integer)) and list_size >= 1:
        return int(list_size)
    if isinstance(list_size, (float, np.floating)) and 0 < list_size <= 1:
        return float(list_size)
    if isinstance(list_size, (float, np.floating)) and list_size > 1 and float(list_size).is_integer():
        return int(list_size)          # a count typed where the default is a share (papermill / URL parameters)
    raise ParameterError.invalid("list_size", "a share in (0, 1] or a count >= 1", list_size)


def _share(list_size, n: int, reference: int) -> float:
    """A list size as a share: a count is taken relative to ``reference`` rows."""
    if isinstance(list_size, float):
        return list_size
    return min(1.0, list_size / max(reference, 1)) if reference else 1.0


def _subsample(index: pd.Index, y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Positions of a stratified random subset of at most ``n`` rows (all rows when fewer)."""
    if len(index) <= n:
        return np.arange(len(index))
    from sklearn.model_selection import train_test_split

    pos, _ = train_test_split(np.arange(len(index)), train_size=n, stratify=y, random_state=seed)
    return np.sort(pos)


# ------------------------------------------------------------------ the model
#: Training rows from which the province model stops after :data:`LARGE_PATIENCE` rounds without improvement.
LARGE_SAMPLE = 100_000
#: Early-stopping patience on a province-scale sample (the estimator's default is ``clip(3 / learning_rate,
#: 50, 200)``): with >= 10,000 held-out rows the validation loss is smooth, and 50 extra rounds after a best
#: round near 100 cost half the training time for nothing.  10 rather than 20: on a 200,000-subscriber
#: province both methods stop at the same best round with either (71 and 95 rounds, identical scores), and
#: at a million the best round is ~50, so 20 idle rounds were ~30 % of the final model's training.
LARGE_PATIENCE = 10


def province_model(n_rows: int, **params):
    """The :class:`~workbench.models.TargetModel` of the province path for a sample of ``n_rows``.

    The estimator's adaptive defaults, except the early-stopping patience of a
    sample of at least :data:`LARGE_SAMPLE` rows (:data:`LARGE_PATIENCE` rounds)
    and the small-sample search over tree shapes (``select="off"``: a province's
    samples are large, and on the 20,000-subscriber teaching sample the four
    cross-validations would quadruple template 03's training time); ``params``
    (e.g. ``early_stopping_rounds``, ``select``) override them.
    """
    from workbench.models.estimator import TargetModel

    if n_rows >= LARGE_SAMPLE and params.get("early_stopping_rounds") is None:
        params["early_stopping_rounds"] = LARGE_PATIENCE
    params.setdefault("select", "off")
    return TargetModel(**params)


# ------------------------------------------------------------------ the pipeline
class ProvincePipeline:
    """The target-user model of one product family on a province's data.

    Two ways to learn (``method``):

    ``"lookalike"`` (default, DOMAIN.md)
        The model sample of ``T`` - potential customers + stable subscribers -
        teaches what stable subscribers look like; potential customers are scored
        as they will look ``stable_months`` on (:func:`align_to_horizon`).
    ``"conversion"``
        The potential customers of ``T - k`` (``k = horizon``), with their features
        then, labelled 1 when they hold the product at ``T`` (stable or recent):
        who *became* a subscriber, from how they looked before.  The potential
        customers of ``T`` are scored as they are.  Its out-of-time validation
        trains at ``T - 2k`` (labels at ``T - k``) and evaluates on the same users
        and labels as the look-alike's, so the two are compared like for like; it
        needs ``2k`` months of history before ``T``.  On the synthetic province it
        ranks next-period subscribers better than the look-alike (benchmarks/model.py).
    ``"auto"`` (default)
        When the data reach back to ``T - 2k``, :meth:`validate` trains both methods
        out of time, evaluates them on the same users and labels, and keeps the
        better one (:func:`choose_method`); with less history it uses the look-alike
        and says why.  :attr:`choice` (a :class:`MethodChoice`) records the decision
        and both methods' figures; ``metrics.json`` and ``province.json`` keep it.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province's tables.
    product : str
        Product family (one of :data:`workbench.data.PRODUCT_FAMILIES`).
    snapshot : "YYYY-MM", optional
        ``T``: the month the final model is trained at and the base is scored
        at; default the last month of ``monthly_usage``.
    stable_months : int
        Month ends that make a stable subscriber.
    window : int
        Months of history the features read.
    list_size : float or int
        Campaign list: a share of the potential customers (``0 < x <= 1``) or a
        count (taken as the same share of the validation's potential customers).
    horizon : int, optional
        ``k`` of the out-of-time validation (default ``stable_months``).
    preference_strength : float or "auto"
        Strength of the preference model's prior.
    preference_prior : {"province", "branch"}
        Mix the preference model smooths toward.
    use_preference : bool
        Add the ``content_pref_*`` columns to the model's inputs.
    align : bool
        Score potential customers as they will look ``stable_months`` months on
        (:func:`align_to_horizon`), in the validation and for the list (look-alike only: a
        conversion model learnt from people as they looked before converting).
    method : {"auto", "lookalike", "conversion"}
        What the model learns from (above); ``"auto"`` chooses by out-of-time evidence.
    baseline_rows, explain_rows, rule_rows : int
        Most rows used to train the baselines, average SHAP values and grow the rules.
    final_rounds : "validated", "early_stopping" or int
        Boosting rounds of the final model.  ``"validated"`` (default): the rounds at which
        the out-of-time validation's model of the same method stopped (:attr:`Validation.rounds`),
        trained on the whole sample of ``T`` without a second early stopping - when
        :meth:`validate` has not run, as ``"early_stopping"``: the estimator's own (a
        held-out 10 % of a large sample).  An int fixes them.
    model_params : dict, optional
        Extra :class:`~workbench.models.TargetModel` parameters.
    random_state : int
        Seed of the models and subsets.
    n_jobs : int, optional
        LightGBM threads (default all cores).
    progress : bool
        tqdm bars over the steps and the boosting rounds.

    Examples
    --------
    >>> pipe = ProvincePipeline("sample_data/province", "mobile_newspaper", "2026-10")   # doctest: +SKIP
    >>> pipe.run("runs/demo")                                                           # doctest: +SKIP
    >>> pipe.validation.summary()                                                       # doctest: +SKIP
    """

    def __init__(self, source, product: str = "mobile_newspaper", snapshot=None,
                 stable_months: int = DEFAULT_STABLE_MONTHS, *, window: int = DEFAULT_WINDOW,
                 list_size=DEFAULT_LIST_SIZE, horizon: int | None = None, preference_strength="auto",
                 preference_prior: str = "province", use_preference: bool = True, align: bool = True,
                 method: str = "auto", baseline_rows: int = 200_000,
                 explain_rows: int = 5_000, rule_rows: int = 200_000, final_rounds="validated",
                 model_params: dict | None = None,
                 random_state: int = 0, n_jobs: int | None = None, progress: bool = True):
        from workbench.data.source import connect
        import duckdb

        self.product = check_family(product, "product")
        self.stable_months = check_positive_int(stable_months, "stable_months")
        self.window = check_positive_int(window, "window")
        self.list_size = _check_list_size(list_size)
        for name, value in (("baseline_rows", baseline_rows), ("explain_rows", explain_rows),
                            ("rule_rows", rule_rows)):
            check_positive_int(value, name, minimum=100)
        self.baseline_rows, self.explain_rows, self.rule_rows = baseline_rows, explain_rows, rule_rows
        if model_params is not None and not isinstance(model_params, dict):
            raise ParameterError.invalid("model_params", "a dict or None", model_params)
        self.model_params = dict(model_params or {})
        if final_rounds not in ("validated", "early_stopping"):
            final_rounds = check_positive_int(final_rounds, "final_rounds")
        self.final_rounds = final_rounds
        self.preference_strength = preference_strength
        self.preference_prior = preference_prior
        PreferenceModel(strength=preference_strength, prior=preference_prior)._check_params()
        self.use_preference = bool(use_preference)
        if method not in PIPELINE_METHODS:
            raise ParameterError.invalid("method", f"one of {PIPELINE_METHODS}", method)
        self.requested_method = method
        self.align = bool(align)
        self.method = "lookalike" if method == "auto" else method     # provisional under "auto" (see choose())
        self.align_months = self._align_months(self.method)
        self.random_state = int(random_state)
        self.n_jobs = n_jobs
        self.progress = bool(progress)
        self._own = not isinstance(source, duckdb.DuckDBPyConnection)
        self.con = connect(source) if self._own else source
        try:
            self._locate(snapshot, horizon)
        except Exception:
            self.close()
            raise
        self._data: dict[str, SnapshotData] = {}
        self._labels: dict[tuple[str, str], pd.DataFrame] = {}
        self.choice: MethodChoice | None = None
        if method != "auto":
            self.choice = MethodChoice(method=method, reason="requested")
        elif not self.history_allows_comparison:
            self.choice = MethodChoice(method="lookalike", reason="history", first_month=self.first_month,
                                       needed_from=self._months_back(self.snapshot, 2 * self.plan.horizon))
        self.training_rows: dict[str, int] = {}
        self.validation: Validation | None = None
        self.model = None
        self.explanation: Explanation | None = None
        self.scores: pd.DataFrame | None = None
        self.preference_result: dict | None = None
        self.paths: dict[str, Path] = {}
        self.timings: dict[str, float] = {}

    def _locate(self, snapshot, horizon) -> None:
        """Resolve the snapshot and the out-of-time plan against the data; read the family's catalogue."""
        last = last_data_month(self.con)
        first = self.con.execute("SELECT min(CAST(month AS DATE)) FROM monthly_usage").fetchall()[0][0]
        self.first_month = f"{pd.Timestamp(first):%Y-%m}"
        self.snapshot = last if snapshot is None else f"{parse_month(snapshot):%Y-%m}"
        if self.snapshot > last:
            raise ParameterError.invalid("snapshot", f"a month with data (the last is {last})", snapshot)
        self.plan = out_of_time_plan(self.snapshot, self.stable_months, horizon)
        if self.plan.train_snapshot < self.first_month:
            raise ParameterError(
                f"The out-of-time validation trains at {self.plan.train_snapshot} ({self.plan.horizon} months before "
                f"the snapshot {self.snapshot}), but the data start in {self.first_month}; choose a later snapshot, "
                "a smaller horizon or fewer stable_months.")
        self.categories = family_categories(self.con, self.product)
        self.editions = edition_catalogue(self.con, self.product)
        self.excluded = excluded_features(self.product, self.categories)

    # -------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Close the DuckDB connection the pipeline opened (not one it was given)."""
        if self._own:
            self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _align_months(self, method: str) -> int:
        return self.stable_months if self.align and method == "lookalike" else 0

    @staticmethod
    def _months_back(snapshot: str, months: int) -> str:
        return f"{pd.Timestamp(snapshot + '-01') - pd.DateOffset(months=months):%Y-%m}"

    @property
    def history_allows_comparison(self) -> bool:
        """Whether the data reach back to ``T - 2k``: the conversion method's out-of-time validation
        (trained on the potential customers of ``T - 2k`` labelled at ``T - k``) can then run beside
        the look-alike's."""
        return self._months_back(self.snapshot, 2 * self.plan.horizon) >= self.first_month

    def _model(self, n_rows: int, rounds: int | None = None):
        params = {"random_state": self.random_state, "n_jobs": self.n_jobs, "progress": self.progress,
                  **self.model_params}
        if rounds:
            params.update(validation="none", fallback_rounds=int(rounds))
        return province_model(n_rows, **params)

    def _final_rounds(self) -> int | None:
        """Rounds of the final model (``final_rounds``), or None: the estimator's own early stopping.

        The validation has trained this method's model at ``T - k`` with early stopping; its rounds are
        reused on the (similar) sample of ``T`` instead of stopping again on a held-out tenth of it.
        """
        if isinstance(self.final_rounds, int):
            return self.final_rounds
        if self.final_rounds == "validated" and self.validation is not None and self.choice is not None:
            fig = self.choice.candidates.get(self.method)
            if fig and fig.get("rounds"):
                return int(fig["rounds"])
        return None

    @property
    def columns(self) -> list[str]:
        """The model's input columns (catalogue features minus the exclusions, then the preference columns)."""
        return input_columns(self.product, self.categories, self.use_preference)

    # -------------------------------------------------------------- step 1: inputs
    def snapshot_data(self, snapshot=None) -> SnapshotData:
        """Features, preferences, status and model sample at ``snapshot`` (default ``T``), cached.

        Only data dated on or before the snapshot month's last day is read (see :func:`build_snapshot`).
        """
        snap = self.snapshot if snapshot is None else f"{parse_month(snapshot):%Y-%m}"
        if snap not in self._data:
            self._data[snap] = build_snapshot(
                self.con, self.product, snap, self.stable_months, window=self.window, categories=self.categories,
                editions=self.editions, use_preference=self.use_preference,
                preference_strength=self.preference_strength, preference_prior=self.preference_prior,
                random_state=self.random_state)
        return self._data[snap]

    def training_frame(self, snapshot=None, method: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Inputs and target of the model trained at ``snapshot`` (default ``T``) by ``method`` (default the
        pipeline's).

        Look-alike: the model sample of ``snapshot``.  Conversion: the potential
        customers of ``snapshot - k`` with their inputs then, target 1 when they hold
        the product at ``snapshot`` (:meth:`conversions`).
        """
        data = self.snapshot_data(snapshot)
        if (method or self.method) == "lookalike":
            return data.frame.loc[data.sample.rows.index], data.sample.target
        labels = self.conversions(data.snapshot)
        before = self.snapshot_data(self._before(data.snapshot))
        return before.frame.loc[labels.index], (labels["outcome"] != "potential").to_numpy(dtype=np.int8)

    def _before(self, snapshot: str) -> str:
        """``snapshot - k``, checked against the first month of the data."""
        before = out_of_time_plan(snapshot, self.stable_months, self.plan.horizon).train_snapshot
        if before < self.first_month:
            raise ParameterError(
                f"The conversion method learns at {snapshot} from the potential customers of {before} "
                f"({self.plan.horizon} months earlier), but the data start in {self.first_month}. Its out-of-time "
                f"validation needs {2 * self.plan.horizon} months of history before the snapshot {self.snapshot}: "
                "give more months of data, a smaller horizon, or use method='lookalike'.")
        return before

    def conversions(self, snapshot=None) -> pd.DataFrame:
        """The potential customers of ``snapshot - k`` and what they were at ``snapshot`` (cached).

        :func:`workbench.models.sample.out_of_time_labels`: ``outcome`` (``potential``,
        ``recent``, ``stable``) and ``target`` (stable at ``snapshot``), indexed by ``subscriber_id``.
        """
        snap = self.snapshot if snapshot is None else f"{parse_month(snapshot):%Y-%m}"
        before = self._before(snap)
        key = (before, snap)
        if key not in self._labels:
            plan = OutOfTimePlan(train_snapshot=before, eval_snapshot=snap, horizon=self.plan.horizon)
            self._labels[key] = out_of_time_labels(
                self.con, plan, self.product, self.stable_months,
                train_status=self.snapshot_data(before).status, eval_status=self.snapshot_data(snap).status)
        return self._labels[key]

    @property
    def composition(self):
        """The sample composition at ``T``."""
        return self.snapshot_data().sample.composition

    # -------------------------------------------------------------- step 2: out-of-time validation
    def validate(self) -> Validation:
        """Train at ``T - k`` (model and baselines), evaluate on the potential customers of ``T - k`` labelled
        at ``T``.

        Under ``method="auto"`` with enough history, both methods' models are trained and
        evaluated on those same users and labels first; the better one (:func:`choose_method`)
        becomes the pipeline's method (:attr:`choice`) and its baselines are trained.
        """
        from workbench.metrics.classification import evaluate_classifier
        from workbench.models.baselines import LogisticBaseline, RulesBaseline

        t0 = time.perf_counter()
        train = self.snapshot_data(self.plan.train_snapshot)
        later = self.snapshot_data(self.plan.eval_snapshot)
        labels = out_of_time_labels(self.con, self.plan, self.product, self.stable_months,
                                    train_status=train.status, eval_status=later.status)
        if labels["target"].sum() == 0 or labels["target"].sum() == len(labels):
            raise DataValidationError(
                f"none (or all) of the {len(labels):,} potential customers of {self.plan.train_snapshot} became stable "
                f"subscribers by {self.plan.eval_snapshot}: the out-of-time validation has no positives to measure")
        y_eval = labels["target"].to_numpy()
        share = _share(self.list_size, len(labels), len(self.snapshot_data().sample.potential_ids))
        compare = self.choice is None                     # "auto" with the history to compare both
        methods = TRAINING_METHODS if compare else (self.method,)
        fitted, candidates = {}, {}
        for method in methods:
            X, y = self.training_frame(self.plan.train_snapshot, method)
            X_eval = align_to_horizon(train.frame.loc[labels.index], self._align_months(method))
            model = self._model(len(X)).fit(X, y)
            result = evaluate_classifier(y_eval, model.predict_proba(X_eval)[:, 1], list_size=share)
            fitted[method] = (result, model.best_iteration_)
            candidates[method] = {"auc": result["auc"], "pr_auc": result["pr_auc"], "ks": result["ks"],
                                  "lift": result["at_list"]["lift"], "capture": result["at_list"]["capture"],
                                  "brier": result["brier"], "rows": int(len(X)), "positives": int(np.sum(y)),
                                  "rounds": int(model.best_iteration_)}
            del model, X, y, X_eval
        if compare:
            chosen = choose_method(candidates)
            self.choice = MethodChoice(method=chosen, reason="evidence", candidates=candidates)
            self.method, self.align_months = chosen, self._align_months(chosen)
        else:
            self.choice.candidates = candidates
        results = {"model": fitted[self.method][0]}
        X, y = self.training_frame(self.plan.train_snapshot)
        X_eval = align_to_horizon(train.frame.loc[labels.index], self.align_months)
        pos = _subsample(X.index, y, self.baseline_rows, self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            from sklearn.exceptions import ConvergenceWarning

            warnings.simplefilter("ignore", category=ConvergenceWarning)
            baselines = (("logistic", LogisticBaseline()), ("rules", RulesBaseline(random_state=self.random_state)))
            for name, est in baselines:
                est.fit(X.iloc[pos], y[pos])
                results[name] = evaluate_classifier(y_eval, est.predict_proba(X_eval)[:, 1], list_size=share)
        outcomes = {k: int(v) for k, v in labels["outcome"].value_counts().items()}
        self.validation = Validation(plan=self.plan, composition=train.sample.composition, outcomes=outcomes,
                                     results=results, list_size=self.list_size, rounds=fitted[self.method][1])
        # free the frames the final model does not need (a conversion model trains on T - k)
        keep = {self.snapshot} | ({self.plan.train_snapshot} if self.method == "conversion" else set())
        for snap in [s for s in self._data if s not in keep]:
            self._data.pop(snap)
        self._labels = {k: v for k, v in self._labels.items() if k[1] == self.snapshot}
        self.timings["validate"] = time.perf_counter() - t0
        return self.validation

    def choose(self) -> MethodChoice:
        """The training method and why (:class:`MethodChoice`); under ``method="auto"`` with enough history this
        runs :meth:`validate` (the comparison) when it has not run yet."""
        if self.choice is None:
            self.validate()
        return self.choice

    # -------------------------------------------------------------- step 3: final model
    def train(self):
        """Train the final model of the chosen method (:meth:`choose`); returns it (a fitted TargetModel)."""
        self.choose()
        t0 = time.perf_counter()
        X, y = self.training_frame()
        self.model = self._model(len(X), self._final_rounds()).fit(X, y)
        self.training_rows = {"rows": int(len(X)), "positives": int(np.sum(y))}
        self.timings["train"] = time.perf_counter() - t0
        return self.model

    def _need_model(self):
        if self.model is None:
            raise ParameterError("the final model is not trained yet: call train() (or run()) first")
        return self.model

    # -------------------------------------------------------------- step 4: explanations
    def explain(self, *, n_rules: int = 8, max_depth: int = 3) -> Explanation:
        """Global importance (gain and mean |SHAP|) and rule examples of the final model."""
        from workbench.models.explain import contributions, global_importance
        from workbench.models.rules import learn_rules

        model = self._need_model()
        t0 = time.perf_counter()
        X, y = self.training_frame()
        pos = _subsample(X.index, y, self.explain_rows, self.random_state)
        importance = global_importance(model, shap=contributions(model, X.iloc[pos]))
        pos_r = _subsample(X.index, y, self.rule_rows, self.random_state)
        Xr = X.iloc[pos_r]
        rules = learn_rules(Xr, y[pos_r], score=model.predict_proba(Xr)[:, 1], n_rules=n_rules, max_depth=max_depth,
                            random_state=self.random_state)
        if len(pos_r) < len(X):
            score = model.predict_proba(X)[:, 1]
            rules = [r.evaluate(X, y, score) for r in rules]
            rules = sorted(rules, key=lambda r: (-r.lift, -r.size))
        self.explanation = Explanation(importance=importance, rules=rules,
                                       rows={"shap": int(len(pos)), "rules": int(len(pos_r)), "evaluated": int(len(X))})
        self.timings["explain"] = time.perf_counter() - t0
        return self.explanation

    # -------------------------------------------------------------- step 5: scores
    def score(self, *, reasons: int = 3, reason_rows: int = DEFAULT_REASON_ROWS,
              lang: str | None = None) -> pd.DataFrame:
        """Score every potential customer of ``T``: :data:`SCORE_COLUMNS`, best first (see :func:`score_base`)."""
        model = self._need_model()
        t0 = time.perf_counter()
        data = self.snapshot_data()
        observed = data.frame.loc[data.sample.potential_ids]
        frame = align_to_horizon(observed, self.align_months) if self.align_months else observed
        self.scores = score_base(model, frame, data.preferences, self.editions, reasons=reasons,
                                 reason_rows=reason_rows, lang=lang, progress=self.progress, observed=observed)
        self.timings["score"] = time.perf_counter() - t0
        return self.scores

    def target_list(self) -> pd.DataFrame:
        """The top of the scored list: the first ``list_size`` potential customers (a share or a count)."""
        if self.scores is None:
            raise ParameterError("the base is not scored yet: call score() (or run()) first")
        n = len(self.scores)
        k = self.list_size if isinstance(self.list_size, int) else int(round(self.list_size * n))
        return self.scores.head(max(1, min(k, n)))

    # -------------------------------------------------------------- step 6: preference model
    def preference(self, *, k: int = 3, sparse_items: int = 10) -> dict:
        """Held-out-month evaluation of the preference model and edition agreement with current subscribers.

        Returns
        -------
        dict
            ``evaluation`` (:class:`~workbench.models.preference.PreferenceEvaluation`),
            ``agreement`` (:func:`~workbench.models.preference.edition_agreement`),
            ``mix`` (the province's content mix, a Series), ``strength`` (of the model used at ``T``).
        """
        t0 = time.perf_counter()
        data = self.snapshot_data()
        months = min(self.window, max(2, _months_between(self.first_month, self.snapshot) + 1))
        evaluation = evaluate_preference(self.con, self.snapshot, months, strength=self.preference_strength,
                                         prior=self.preference_prior, k=k, sparse_items=sparse_items)
        matches = match_editions(data.preferences, self.editions)
        agreement = edition_agreement(self.con, matches, self.product, self.snapshot)
        self.preference_result = {"evaluation": evaluation, "agreement": agreement,
                                  "mix": data.preference_model.province_mix_,
                                  "strength": data.preference_model.strength_}
        self.timings["preference"] = time.perf_counter() - t0
        return self.preference_result

    # -------------------------------------------------------------- step 7: save
    def metrics(self) -> dict:
        """What ``metrics.json`` records: compositions, out-of-time figures, exclusions, preference evaluation."""
        out = {"method": self.method, "composition": self.composition.to_dict(),
               "excluded_features": self.excluded, "timings": self.timings}
        if self.choice is not None:
            out["method_choice"] = self.choice.to_dict()
        if self.validation is not None:
            out["out_of_time"] = {**self.validation.to_dict(), "summary": self.validation.summary()}
        if self.model is not None:
            rows = self.training_rows or {"rows": int(self.composition.sample_size),
                                          "positives": int(self.composition.stable)}
            out["final_model"] = {**rows, "best_iteration": self.model.best_iteration_}
        if self.preference_result is not None:
            out["preference"] = {"evaluation": self.preference_result["evaluation"].to_dict(),
                                 "agreement": self.preference_result["agreement"],
                                 "strength": self.preference_result["strength"]}
        return out

    def save(self, run_dir) -> dict[str, Path]:
        """Write ``<run_dir>/model/`` (registry folder + ``province.json``) and ``<run_dir>/scores.parquet``.

        ``run_dir`` is a path or a :class:`workbench.runs.RunFolder`; the writes are recorded in its manifest.
        """
        from workbench.models.registry import save_model, to_jsonable
        from workbench.runs import RunFolder

        model = self._need_model()
        run = RunFolder.of(run_dir)
        folder = run.model_dir(read=False)
        X, _ = self.training_frame()
        snap = pd.Timestamp(self.snapshot + "-01")
        if self.method == "lookalike":
            label = {"target": "stable_subscriber", "sample": "potential customers + stable subscribers "
                     "(recent subscribers left out)"}
        else:
            snap = pd.Timestamp(self._before(self.snapshot) + "-01")
            label = {"target": "holds_the_product", "features_at": f"{snap:%Y-%m}",
                     "sample": f"potential customers of {snap:%Y-%m}, 1 when they hold the product at {self.snapshot}"}
        first = snap - pd.DateOffset(months=self.window - 1)
        save_model(
            model, folder,
            label_definition={"product": self.product, "method": self.method, "positive": 1,
                              "stable_months": self.stable_months, "snapshot": self.snapshot, **label},
            training_window={"from": f"{first:%Y-%m}", "to": self.snapshot, "window": self.window},
            metrics=self.metrics(), training_data=X, id_col=_ID,
            rules=self.explanation.rules if self.explanation is not None else None,
            importance=self.explanation.importance if self.explanation is not None else None,
        )
        from workbench.monitoring import save_province_reference  # reference.json: drift and decay monitoring

        save_province_reference(folder, model, X, validation=self.validation,
                                preferences=self.snapshot_data().preferences)
        spec = {
            "format": {"name": "workbench.province_model", "version": 1},
            "product": self.product, "snapshot": self.snapshot, "stable_months": self.stable_months,
            "window": self.window, "categories": list(self.categories), "columns": self.columns,
            "excluded_features": self.excluded, "use_preference": self.use_preference,
            "align_months": self.align_months, "method": self.method,
            "editions": self.editions.to_dict(orient="records"),
            "preference_model": self.snapshot_data().preference_model.to_dict(),
            "out_of_time_plan": self.plan.to_dict(),
            "method_choice": self.choice.to_dict() if self.choice is not None else None,
        }
        (folder / PROVINCE_FILE).write_text(json.dumps(to_jsonable(spec), ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
        run.record_output("model")
        self.paths = {"model": folder}
        if self.scores is not None:
            self.paths["scores"] = run.write_scores(self.scores)
        return self.paths

    # -------------------------------------------------------------- everything
    def run(self, run_dir=None):
        """All steps in order (validate, train, explain, score, preference, save when ``run_dir`` is given)."""
        from tqdm.auto import tqdm

        steps = [s for s in _STEPS if s != "save" or run_dir is not None]
        bar = tqdm(steps, desc="province model", unit="step", disable=not self.progress)
        for step in bar:
            bar.set_postfix_str(step)
            if step == "save":
                self.save(run_dir)
            else:
                getattr(self, step)()
        bar.close()
        return self


def _months_between(first: str, last: str) -> int:
    a, b = pd.Timestamp(first + "-01"), pd.Timestamp(last + "-01")
    return (b.year - a.year) * 12 + b.month - a.month
