"""The model sample of the target-user (look-alike) model, its inputs and its out-of-time frame.

Model sample (DOMAIN.md)
------------------------
At a snapshot month every subscriber on the network falls in one of three groups
for the target product family:

``potential``  not subscribed at the snapshot month end (潜在客户);
``stable``     a **stable subscriber**: subscribed at each of the last
               ``stable_months`` month ends within one continuous stay
               (:func:`workbench.features.stable_subscribers`);
``recent``     subscribed at the month end but not (yet) for ``stable_months``
               month ends.

The model sample is ``potential + stable``; ``recent`` subscribers are left out
(they are neither a clear example of a kept subscription nor potential
customers).  The target is 1 for stable subscribers.  The composition is
reported in the source's form: *sample size = potential customers + stable
subscribers, target share* (e.g. 1,039,229 = 1,001,143 + 38,086, 3.664 %).

Inputs the model must not see
-----------------------------
A look-alike model compares stable subscribers with non-subscribers at the same
snapshot, so any feature that *records the subscription itself* separates them
perfectly and teaches nothing about who will subscribe.  :func:`excluded_features`
lists, with a reason code, every catalogue feature dropped for a family:

``own_family``    ``vas_fam_<family>_*`` - orders, unsubscribes, active flag and
                  months since order of the family itself;
``own_category``  ``vas_cat_<c>_*`` for every content category *c* of the
                  family's products (for the mobile newspaper: news, sports,
                  finance, entertainment - its editions are the only or main
                  products of these categories, so ``vas_cat_news_active`` is
                  "subscribes to the news edition");
``own_fee``       ``vas_spend_*`` and ``arpu_*``: the monthly bill and VAS spend
                  include the family's own monthly fee, so a subscriber's spend
                  is raised *because* they subscribe.

Content consumption (``content_*``, ``content_share_*``) is kept: it is what a
person reads, not what they pay for.

Out-of-time validation
----------------------
The headline accuracy of the model is never measured on a random split of the
snapshot it was trained on: stable subscribers and non-subscribers of the same
month are not the question a campaign asks ("who will *become* a stable
subscriber?").  :func:`out_of_time_plan` sets

* the **training snapshot** ``T - k`` (``k = horizon``, by default
  ``stable_months``): the look-alike is trained on the model sample of ``T - k``
  with features built from data dated on or before the last day of ``T - k``;
* the **evaluation snapshot** ``T``: the potential customers of ``T - k`` are
  scored with their features at ``T - k``, and the label is whether they are
  stable subscribers at ``T`` (observed in the data).  With ``k =
  stable_months`` these are the potential customers who ordered in month
  ``T - k + 1`` and kept the product through ``T``.  Those who ordered later
  (``recent`` at ``T``) or left again count as negatives: the label is what was
  observed by ``T``.

Nothing dated after ``T - k`` enters the training rows or their features; the
data after ``T - k`` is only read to label the evaluation rows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, ParameterError
from workbench.features import FEATURES, subscriber_status
from workbench.features._db import add_months, check_family, check_positive_int, connection, parse_month, require
from workbench.i18n import t

__all__ = [
    "DEFAULT_STABLE_MONTHS",
    "GROUPS",
    "SAMPLE_COLUMNS",
    "SPEND_MEASURES",
    "EXCLUSION_REASONS",
    "SampleComposition",
    "ModelSample",
    "OutOfTimePlan",
    "sample_from_status",
    "model_sample",
    "family_categories",
    "excluded_features",
    "model_columns",
    "out_of_time_plan",
    "out_of_time_labels",
    "last_data_month",
]

#: Month ends a subscriber must hold the product to be a stable subscriber (the source's definition).
DEFAULT_STABLE_MONTHS = 3
#: The groups of subscribers at a snapshot: (in the sample: potential, stable; left out: recent).
GROUPS: tuple[str, str, str] = ("potential", "stable", "recent")
#: Columns of :attr:`ModelSample.rows`.
SAMPLE_COLUMNS: tuple[str, str] = ("group", "target")
#: Usage measures whose value includes the product family's own monthly fee.
SPEND_MEASURES: tuple[str, ...] = ("vas_spend", "arpu")
#: Reason codes of :func:`excluded_features`.
EXCLUSION_REASONS: tuple[str, ...] = ("own_family", "own_category", "own_fee")


def _month_text(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m}"


@dataclass(frozen=True)
class SampleComposition:
    """The composition of a model sample, in the source's form.

    Attributes
    ----------
    product, snapshot : str
        Product family and snapshot month (``YYYY-MM``).
    stable_months : int
        Month ends that make a stable subscriber.
    sample_size : int
        ``potential + stable``.
    potential : int
        Potential customers (not subscribed at the snapshot month end).
    stable : int
        Stable subscribers (the targets).
    recent : int
        Subscribers left out: subscribed, not yet stable.
    base : int
        Subscribers on the network at the snapshot month end (``sample_size + recent``).
    """

    product: str
    snapshot: str
    stable_months: int
    sample_size: int
    potential: int
    stable: int
    recent: int
    base: int

    @property
    def target_share(self) -> float:
        """``stable / sample_size`` (0 for an empty sample)."""
        return self.stable / self.sample_size if self.sample_size else 0.0

    def equation(self, lang: str | None = None) -> str:
        """The source's line, e.g. ``"1,039,229 = 1,001,143 + 38,086 (target share 3.664%)"``."""
        return t("t03.sample.equation", lang, sample_size=self.sample_size, potential=self.potential,
                 stable=self.stable, share=self.target_share)

    def to_dict(self) -> dict:
        """JSON-ready form, with ``target_share``."""
        return {**asdict(self), "target_share": self.target_share}

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """One row per line of the source's composition table: ``item``, ``users``, ``share``.

        Shares are of the sample size; the ``recent`` line (left out) is a share of the base.
        """
        rows = [
            ("sample_size", self.sample_size, 1.0 if self.sample_size else 0.0),
            ("potential", self.potential, self.potential / self.sample_size if self.sample_size else 0.0),
            ("stable", self.stable, self.target_share),
            ("recent", self.recent, self.recent / self.base if self.base else 0.0),
        ]
        return pd.DataFrame({
            "item": pd.array([t(f"t03.sample.item.{k}", lang, months=self.stable_months) for k, _, _ in rows],
                             dtype="str"),
            "users": np.asarray([n for _, n, _ in rows], dtype=np.int64),
            "share": np.asarray([s for _, _, s in rows], dtype=np.float64),
        })


@dataclass(frozen=True)
class ModelSample:
    """A model sample: its rows and their composition.

    Attributes
    ----------
    rows : DataFrame
        Indexed by ``subscriber_id`` (sorted): ``group`` (``"potential"`` or
        ``"stable"``, pandas ``str``) and ``target`` (int8, 1 = stable subscriber).
    composition : SampleComposition
    """

    rows: pd.DataFrame
    composition: SampleComposition

    @property
    def target(self) -> np.ndarray:
        """The 0/1 target as an int8 array (row order of :attr:`rows`)."""
        return self.rows["target"].to_numpy(dtype=np.int8)

    @property
    def potential_ids(self) -> pd.Index:
        """Subscriber ids of the potential customers."""
        return self.rows.index[self.rows["group"] == GROUPS[0]]


def _check_stable_months(stable_months) -> int:
    return check_positive_int(stable_months, "stable_months")


def sample_from_status(status: pd.DataFrame, *, product: str = "mobile_newspaper", snapshot="2026-10",
                       stable_months: int = DEFAULT_STABLE_MONTHS) -> ModelSample:
    """The model sample from a subscriber-status table (pure function).

    Parameters
    ----------
    status : DataFrame
        As returned by :func:`workbench.features.subscriber_status`: indexed by
        ``subscriber_id``, boolean ``active`` (subscribed at the snapshot month
        end) and ``stable`` (a stable subscriber).
    product : str
        Product family (recorded in the composition).
    snapshot : "YYYY-MM" or date
        Snapshot month (recorded in the composition).
    stable_months : int
        Month ends that make a stable subscriber (recorded in the composition;
        ``status`` must have been computed with it).

    Returns
    -------
    ModelSample

    Raises
    ------
    DataValidationError
        ``status`` lacks ``active`` / ``stable``, has missing values, or has a
        stable subscriber who is not active.

    Examples
    --------
    >>> status = pd.DataFrame({"active": [False, True, True], "stable": [False, True, False]},
    ...                       index=pd.Index([1, 2, 3], name="subscriber_id"))
    >>> s = sample_from_status(status)
    >>> s.composition.sample_size, s.composition.stable, s.composition.recent
    (2, 1, 1)
    """
    fam = check_family(product, "product")
    snap = parse_month(snapshot)
    months = _check_stable_months(stable_months)
    if not isinstance(status, pd.DataFrame):
        raise ParameterError.invalid("status", "a DataFrame from subscriber_status()", type(status).__name__)
    missing = [c for c in ("active", "stable") if c not in status.columns]
    if missing:
        raise DataValidationError(
            f"the status table lacks column(s) {missing}; expected the output of subscriber_status() with "
            f"'active' and 'stable', found {list(status.columns)}",
            [{"table": "status", "column": ", ".join(missing), "check": "column present", "count": len(missing),
              "examples": list(map(str, status.columns))[:20]}])
    if status[["active", "stable"]].isna().any().any():
        raise DataValidationError("the status table has missing values in 'active' / 'stable'; expected booleans")
    active = status["active"].to_numpy(dtype=bool)
    stable = status["stable"].to_numpy(dtype=bool)
    bad = stable & ~active
    if bad.any():
        examples = status.index[bad][:10].tolist()
        raise DataValidationError(
            f"{int(bad.sum())} subscriber(s) are 'stable' but not 'active' in the status table, e.g. {examples}; "
            "a stable subscriber must be subscribed at the snapshot month end",
            [{"table": "status", "column": "stable", "check": "stable implies active", "count": int(bad.sum()),
              "examples": examples}])
    keep = ~active | stable
    rows = pd.DataFrame({
        "group": pd.array(np.where(stable[keep], GROUPS[1], GROUPS[0]), dtype="str"),
        "target": stable[keep].astype(np.int8),
    }, index=status.index[keep]).sort_index()
    rows.index.name = "subscriber_id"
    n_stable = int(stable.sum())
    n_potential = int((~active).sum())
    n_recent = int((active & ~stable).sum())
    comp = SampleComposition(product=fam, snapshot=_month_text(snap), stable_months=months,
                             sample_size=n_potential + n_stable, potential=n_potential, stable=n_stable,
                             recent=n_recent, base=len(status))
    return ModelSample(rows=rows, composition=comp)


def model_sample(source, product: str = "mobile_newspaper", snapshot="2026-10",
                 stable_months: int = DEFAULT_STABLE_MONTHS, *, gap_days: int = 0) -> ModelSample:
    """The model sample at a snapshot, read from a source.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``subscribers``, ``vas_orders`` and ``vas_products``.
    product : str
        Product family (one of :data:`workbench.data.PRODUCT_FAMILIES`).
    snapshot : "YYYY-MM" or date
        Snapshot month; nothing dated after its last day is read.
    stable_months : int
        Month ends a subscriber must hold the product to be a stable subscriber.
    gap_days : int
        Days between two spells of the family that still count as one stay.

    Returns
    -------
    ModelSample

    Examples
    --------
    >>> s = model_sample("sample_data/province", "mobile_newspaper", "2026-10")   # doctest: +SKIP
    >>> s.composition.equation("en")                                              # doctest: +SKIP
    '19,899 = 19,194 + 705 (target share 3.543%)'
    """
    fam = check_family(product, "product")
    _check_stable_months(stable_months)
    status = subscriber_status(source, fam, snapshot, stable_months, gap_days=gap_days)
    return sample_from_status(status, product=fam, snapshot=snapshot, stable_months=stable_months)


# ------------------------------------------------------------------ model inputs
def family_categories(source, product: str = "mobile_newspaper") -> tuple[str, ...]:
    """Content categories of the family's products, from ``vas_products`` (in catalogue order).

    Raises
    ------
    DataValidationError
        ``vas_products`` is missing, or has no product of the family.
    """
    from workbench.data.tables import CONTENT_CATEGORIES

    fam = check_family(product, "product")
    with connection(source) as con:
        require(con, {"vas_products": ("product_id", "family", "content_category")}, "family_categories")
        found = {r[0] for r in con.execute(
            "SELECT DISTINCT content_category FROM vas_products WHERE family = ? AND content_category IS NOT NULL",
            [fam]).fetchall()}
        n = con.execute("SELECT count(*) FROM vas_products WHERE family = ?", [fam]).fetchall()[0][0]
    if n == 0:
        raise DataValidationError(f"vas_products has no product of family {fam!r}; the model needs the family's "
                                  "products to know which features describe the subscription itself")
    return tuple(c for c in CONTENT_CATEGORIES if c in found) + tuple(sorted(found - set(CONTENT_CATEGORIES)))


def excluded_features(product: str = "mobile_newspaper", categories=()) -> dict[str, str]:
    """Catalogue features a model of ``product`` must not use, with the reason code of each.

    Parameters
    ----------
    product : str
        Product family the model predicts.
    categories : iterable of str
        Content categories of the family's products (:func:`family_categories`).

    Returns
    -------
    dict
        ``{feature name: reason}`` in catalogue order; reasons are
        ``own_family``, ``own_category`` and ``own_fee`` (see the module docstring).

    Examples
    --------
    >>> ex = excluded_features("mobile_newspaper", ["news"])
    >>> ex["vas_fam_mobile_newspaper_active"], ex["vas_cat_news_orders"], ex["arpu_mean"]
    ('own_family', 'own_category', 'own_fee')
    >>> "content_share_news" in ex
    False
    """
    fam = check_family(product, "product")
    cats = set(categories or ())
    out = {}
    for f in FEATURES:
        if f.product_family == fam:
            out[f.name] = "own_family"
        elif f.family == "vas_category" and f.content_category in cats:
            out[f.name] = "own_category"
        elif f.family == "usage" and f.measure in SPEND_MEASURES:
            out[f.name] = "own_fee"
    return out


def model_columns(product: str = "mobile_newspaper", categories=(), *, extra=()) -> list[str]:
    """The catalogue features a model of ``product`` reads (all but :func:`excluded_features`), then ``extra``."""
    drop = excluded_features(product, categories)
    return [f.name for f in FEATURES if f.name not in drop] + [c for c in extra if c not in drop]


# ------------------------------------------------------------------ out of time
@dataclass(frozen=True)
class OutOfTimePlan:
    """Snapshots of an out-of-time validation.

    Attributes
    ----------
    train_snapshot : str
        ``T - horizon``: the model is trained on its sample, with its features.
    eval_snapshot : str
        ``T``: potential customers of the training snapshot are labelled by
        whether they are stable subscribers here.
    horizon : int
        Months between the two.
    """

    train_snapshot: str
    eval_snapshot: str
    horizon: int

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def out_of_time_plan(snapshot="2026-10", stable_months: int = DEFAULT_STABLE_MONTHS,
                     horizon: int | None = None) -> OutOfTimePlan:
    """The training and evaluation snapshots of the out-of-time validation.

    Parameters
    ----------
    snapshot : "YYYY-MM" or date
        ``T``, the latest snapshot whose outcome is observed (normally the last
        month of the data).
    stable_months : int
        Month ends that make a stable subscriber.
    horizon : int, optional
        ``k``; default ``stable_months`` (the shortest horizon in which a
        potential customer of ``T - k`` can become a stable subscriber by ``T``).

    Raises
    ------
    ParameterError
        ``horizon`` is smaller than ``stable_months`` (nobody could become stable in time).

    Examples
    --------
    >>> out_of_time_plan("2026-10", 3)
    OutOfTimePlan(train_snapshot='2026-07', eval_snapshot='2026-10', horizon=3)
    """
    snap = parse_month(snapshot)
    months = _check_stable_months(stable_months)
    k = months if horizon is None else check_positive_int(horizon, "horizon")
    if k < months:
        raise ParameterError.invalid("horizon", f"an integer >= stable_months ({months}): a potential customer "
                                     "needs that many month ends to become a stable subscriber", horizon)
    return OutOfTimePlan(train_snapshot=_month_text(add_months(snap, -k)), eval_snapshot=_month_text(snap),
                         horizon=k)


def out_of_time_labels(source, plan: OutOfTimePlan, product: str = "mobile_newspaper",
                       stable_months: int = DEFAULT_STABLE_MONTHS, *, gap_days: int = 0,
                       train_status: pd.DataFrame | None = None,
                       eval_status: pd.DataFrame | None = None) -> pd.DataFrame:
    """Labels of the out-of-time evaluation: what the potential customers of ``T - k`` were at ``T``.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    plan : OutOfTimePlan
    product : str
        Product family.
    stable_months : int
        Month ends that make a stable subscriber.
    gap_days : int
        As for :func:`workbench.features.stable_subscribers`.
    train_status, eval_status : DataFrame, optional
        :func:`~workbench.features.subscriber_status` at the training / evaluation
        snapshot, when already computed.

    Returns
    -------
    DataFrame
        Indexed by ``subscriber_id`` (the potential customers of the training
        snapshot, sorted): ``outcome`` (``"stable"``, ``"recent"`` - subscribed
        at ``T`` but not yet stable - or ``"potential"``, pandas ``str``) and
        ``target`` (int8, 1 = stable subscriber at ``T``).
    """
    if not isinstance(plan, OutOfTimePlan):
        raise ParameterError.invalid("plan", "an OutOfTimePlan (see out_of_time_plan())", type(plan).__name__)
    fam = check_family(product, "product")
    months = _check_stable_months(stable_months)
    with connection(source) as con:
        before = train_status if train_status is not None else subscriber_status(
            con, fam, plan.train_snapshot, months, gap_days=gap_days)
        after = eval_status if eval_status is not None else subscriber_status(
            con, fam, plan.eval_snapshot, months, gap_days=gap_days)
    pot = before.index[~before["active"].to_numpy(dtype=bool)]
    later = after.reindex(pot)
    stable = later["stable"].fillna(False).to_numpy(dtype=bool)
    active = later["active"].fillna(False).to_numpy(dtype=bool)
    outcome = np.where(stable, "stable", np.where(active, "recent", "potential"))
    out = pd.DataFrame({"outcome": pd.array(outcome, dtype="str"), "target": stable.astype(np.int8)},
                       index=pot).sort_index()
    out.index.name = "subscriber_id"
    return out


def last_data_month(source) -> str:
    """The last month with a ``monthly_usage`` row (``YYYY-MM``).

    Raises
    ------
    DataValidationError
        ``monthly_usage`` is missing or empty.
    """
    with connection(source) as con:
        require(con, {"monthly_usage": ("month",)}, "last_data_month")
        (m,) = con.execute("SELECT max(CAST(month AS DATE)) FROM monthly_usage").fetchall()[0]
    if m is None:
        raise DataValidationError("monthly_usage has no rows: there is no last month of data")
    return _month_text(pd.Timestamp(m))
