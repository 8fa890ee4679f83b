"""The content-preference model (梦网业务内容偏好模型) and edition matching.

Preference
----------
A user's preference over the content categories
(:data:`workbench.data.CONTENT_CATEGORIES`) is estimated from the items of each
category they consumed over a window (``content_<category>`` of
``monthly_usage``).  A user with 3 items tells little; the raw shares would say
"100 % sports" after a single sports item.  :class:`PreferenceModel` therefore
smooths each user's counts toward a prior mix (empirical Bayes with a Dirichlet
prior)::

    preference[u, c] = (n[u, c] + s * m[g(u), c]) / (n[u] + s)

``n[u, c]`` the user's items of category *c*, ``n[u]`` their total, ``m`` the
prior mix - the province's (pooled items of all users) or, with
``prior="branch"``, the user's branch's - and ``s`` the **strength** of the
prior in items: a user with ``s`` items is pulled half-way to the prior.  With
``strength="auto"`` ``s`` is the maximum-likelihood precision of a
Dirichlet-multinomial with mean ``m`` (Minka's fixed-point iteration on the
users with at least one item), i.e. it is learned from how much users really
differ from the mix.  A user without any item gets the prior mix.

Evaluation (:func:`evaluate_preference`)
---------------------------------------
The last month of the window is held out: the model is fitted on the months
before it and predicts, for every user with at least one item in the held-out
month, their ranking of categories.  Reported per method

* ``top1`` - share of users whose predicted top category is the held-out
  month's top category (when several categories tie for the month's top, a
  prediction of any of them counts);
* ``ndcg`` - NDCG@k with the held-out month's item counts as graded relevance
  (``DCG = sum_i rel_i / log2(i + 1)`` over the first ``k`` predicted
  categories, divided by the DCG of the ideal order);

* ``loss`` - cross-entropy of the held-out month's items under the predicted
  preference (nats per item, lower is better): how well the *levels* of the
  preference are estimated, which is where smoothing matters most (the
  ranking of a user's categories changes little);

for three methods: ``model`` (the smoothed preference), ``raw`` (the
unsmoothed shares; users without items and ties fall back to popularity, and
for the loss the shares are mixed with 0.1 % of the province's mix so that a
category never seen before does not cost an infinite loss) and ``popularity``
(everyone gets the province's mix).  The same figures are
given for *sparse* users (fewer than ``sparse_items`` items in the fitting
months), where smoothing matters.

Matching (:func:`match_editions`)
--------------------------------
The editions of a product family are its ``vas_products`` rows with an
``edition`` and a ``content_category``; the best edition of a user is the one
whose category the user prefers most, the runner-up the second.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from workbench.data.tables import CONTENT_CATEGORIES
from workbench.errors import DataValidationError, ParameterError
from workbench.features._db import (
    add_months, check_family, check_positive_int, connection, month_end, parse_month, require, sql_date,
)

__all__ = [
    "PRIORS",
    "METHODS",
    "PREFERENCE_PREFIX",
    "PreferenceModel",
    "PreferenceEvaluation",
    "content_counts",
    "counts_from_features",
    "subscriber_groups",
    "evaluate_counts",
    "evaluate_preference",
    "truth_correlation",
    "edition_catalogue",
    "match_editions",
    "preference_features",
    "edition_agreement",
]

#: Priors a user's counts can be smoothed toward.
PRIORS: tuple[str, str] = ("province", "branch")
#: Methods compared by :func:`evaluate_preference`.
METHODS: tuple[str, str, str] = ("model", "raw", "popularity")
#: Prefix of the preference columns added to the target model's inputs by :func:`preference_features`.
PREFERENCE_PREFIX = "content_pref_"
_MAX_STRENGTH = 1e6
# share of the province mix blended into the raw shares for the loss (an unseen category is not infinitely wrong)
_RAW_MIX = 1e-3


def _check_counts(counts, categories, name: str = "counts") -> np.ndarray:
    if not isinstance(counts, pd.DataFrame):
        raise ParameterError.invalid(name, "a DataFrame with one column of item counts per content category",
                                     type(counts).__name__)
    missing = [c for c in categories if c not in counts.columns]
    if missing:
        raise DataValidationError(
            f"{name} lacks the content category column(s) {missing}; expected {list(categories)}, "
            f"found {list(map(str, counts.columns))}",
            [{"table": name, "column": ", ".join(missing), "check": "column present", "count": len(missing),
              "examples": list(map(str, counts.columns))[:20]}])
    values = counts[list(categories)].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) | (values < 0)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))[:10]
        raise DataValidationError(
            f"{name} has {int(bad.sum())} missing or negative count(s); item counts must be >= 0 "
            f"(rows {counts.index[rows].tolist()})",
            [{"table": name, "column": None, "check": ">= 0", "count": int(bad.sum()),
              "examples": counts.index[rows].tolist()}])
    return values


def _aligned_groups(groups, index: pd.Index, name: str = "groups") -> np.ndarray | None:
    if groups is None:
        return None
    if not isinstance(groups, pd.Series):
        raise ParameterError.invalid(name, "a pandas Series of group labels indexed like the counts",
                                     type(groups).__name__)
    g = groups.reindex(index)
    return g.astype("str").to_numpy(dtype=object, na_value=None)


def _tally(n: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (count, mix) pairs of ``n`` and ``m`` and how often each occurs.

    Counts are small integers and the mix takes one value per group and category, so a
    few thousand pairs stand for millions of cells: the fixed point below evaluates its
    digammas once per pair (weighted), not once per cell - ~10x faster for the same sums.
    Counts that are not whole numbers are not tallied (weight 1 each).
    """
    whole = bool(np.all(n == np.floor(n))) and (len(n) == 0 or n.max() < 2 ** 40)
    if not whole:
        return n, m, np.ones(len(n))
    levels, mix_code = np.unique(m, return_inverse=True)
    key, weight = np.unique(n.astype(np.int64) * len(levels) + mix_code.ravel(), return_counts=True)
    return (key // len(levels)).astype(np.float64), levels[key % len(levels)], weight.astype(np.float64)


def _dirichlet_strength(n: np.ndarray, m: np.ndarray, *, max_iter: int, tol: float) -> float:
    """Maximum-likelihood precision ``s`` of a Dirichlet-multinomial with (row-wise) mean ``m``.

    Minka's fixed point ``s <- s * sum m (psi(n + s m) - psi(s m)) / sum (psi(N + s) - psi(s))``
    over rows with at least one item.
    """
    from scipy.special import digamma

    total = n.sum(axis=1)
    keep = total > 0
    n, m, total = n[keep], m[keep], total[keep]
    if len(n) == 0:
        return float("nan")
    m = np.clip(m, 1e-9, None)
    n_v, m_v, w = _tally(n.ravel(), m.ravel())
    t_v, t_w = np.unique(total, return_counts=True)
    s = 10.0
    for _ in range(max_iter):
        sm = s * m_v
        num = (w * m_v * (digamma(n_v + sm) - digamma(sm))).sum()
        den = (t_w * (digamma(t_v + s) - digamma(s))).sum()
        if den <= 0 or num <= 0:
            return _MAX_STRENGTH
        new = s * num / den
        if not np.isfinite(new) or new > _MAX_STRENGTH:
            return _MAX_STRENGTH
        if abs(new - s) <= tol * s:
            return float(new)
        s = new
    return float(s)


class PreferenceModel(BaseEstimator):
    """Smoothed content preference of each user (empirical-Bayes Dirichlet prior).

    Parameters
    ----------
    strength : float or "auto"
        Strength ``s`` of the prior, in items (0 = raw shares); ``"auto"``
        learns it by maximum likelihood (see the module docstring).
    prior : {"province", "branch"}
        Mix the counts are smoothed toward: the province's, or the user's
        group's (``groups`` passed to :meth:`fit` / :meth:`transform`, e.g. the
        branch; a group unseen at fit time gets the province's mix).
    categories : sequence of str
        Content categories (columns of the counts).
    max_users : int
        Users (with items) used to learn ``strength="auto"``: a seeded random
        subset above this number (one number is estimated; 50,000 users pin it
        down to about 1 %).
    max_iter, tol : int, float
        Fixed-point iterations and relative tolerance for ``strength="auto"``.
    random_state : int
        Seed of the subset.

    Attributes
    ----------
    categories_ : list of str
    province_mix_ : Series
        Pooled share of each category over all users.
    group_mix_ : DataFrame or None
        With ``prior="branch"``: one row per group.
    strength_ : float
        The strength used.
    n_users_ : int
        Users in the fit.

    Examples
    --------
    >>> counts = pd.DataFrame({"news": [9, 0, 1], "sports": [1, 0, 0]})
    >>> model = PreferenceModel(strength=2.0, categories=["news", "sports"]).fit(counts)
    >>> model.province_mix_.round(3).tolist()
    [0.909, 0.091]
    >>> model.transform(counts).round(3).loc[2].tolist()   # (1 + 2 x 0.909) / 3, (0 + 2 x 0.091) / 3
    [0.939, 0.061]
    """

    def __init__(self, *, strength="auto", prior: str = "province", categories=CONTENT_CATEGORIES,
                 max_users: int = 50_000, max_iter: int = 200, tol: float = 1e-6, random_state: int = 0):
        self.strength = strength
        self.prior = prior
        self.categories = categories
        self.max_users = max_users
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.prior not in PRIORS:
            raise ParameterError.invalid("prior", f"one of {set(PRIORS)}", self.prior)
        if isinstance(self.strength, str):
            if self.strength != "auto":
                raise ParameterError.invalid("strength", "a number >= 0 or 'auto'", self.strength)
        elif isinstance(self.strength, bool) or not isinstance(self.strength, (int, float, np.number)) \
                or not np.isfinite(self.strength) or self.strength < 0:
            raise ParameterError.invalid("strength", "a number >= 0 or 'auto'", self.strength)
        cats = list(self.categories)
        if len(cats) < 2 or len(set(cats)) != len(cats):
            raise ParameterError.invalid("categories", "at least two distinct category names", self.categories)
        check_positive_int(self.max_users, "max_users")

    def _prior(self, index: pd.Index, groups) -> np.ndarray:
        """The prior mix of each user: ``(len(index), C)``, or ``(1, C)`` (broadcast) when every user has
        the province's mix."""
        m = self.province_mix_.to_numpy()[None, :]
        g = _aligned_groups(groups, index)
        if self.group_mix_ is not None and g is not None:
            m = np.tile(m, (len(index), 1))
            codes = self.group_mix_.index.get_indexer(pd.Index(g, dtype=object))
            known = codes >= 0
            m[known] = self.group_mix_.to_numpy()[codes[known]]
        return m

    def fit(self, counts: pd.DataFrame, groups: pd.Series | None = None) -> "PreferenceModel":
        """Learn the prior mix(es) and, with ``strength="auto"``, the strength.

        Parameters
        ----------
        counts : DataFrame
            One row per user, one column of item counts per category (>= 0).
        groups : Series, optional
            Group of each user (e.g. ``branch_id``), indexed like ``counts``;
            needed with ``prior="branch"``.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            Bad parameters, ``prior="branch"`` without ``groups``.
        DataValidationError
            A category column is missing, a count is missing or negative, or no
            user consumed anything.
        """
        self._check_params()
        cats = list(self.categories)
        n = _check_counts(counts, cats)
        totals = n.sum(axis=0)
        if totals.sum() <= 0:
            raise DataValidationError(f"no user consumed any content in the counts ({len(n)} users); the "
                                      "preference model needs some consumption to learn a mix")
        self.categories_ = cats
        self.province_mix_ = pd.Series(totals / totals.sum(), index=cats, name="share")
        self.group_mix_ = None
        if self.prior == "branch":
            if groups is None:
                raise ParameterError("prior='branch' needs groups (e.g. each user's branch_id) to learn "
                                     "the branch mixes; pass groups= or use prior='province'")
            g = _aligned_groups(groups, counts.index)
            frame = pd.DataFrame(n, columns=cats)
            frame["_g"] = pd.array(g, dtype="str")
            sums = frame.dropna(subset=["_g"]).groupby("_g", sort=True)[cats].sum()
            sums = sums[sums.sum(axis=1) > 0]
            self.group_mix_ = sums.div(sums.sum(axis=1), axis=0)
            self.group_mix_.index.name = "group"
        if self.strength == "auto":
            rows = np.flatnonzero(n.sum(axis=1) > 0)
            if len(rows) > self.max_users:
                rng = np.random.default_rng(self.random_state)
                rows = np.sort(rng.choice(rows, self.max_users, replace=False))
            m = np.broadcast_to(self._prior(counts.index[rows], groups), (len(rows), len(cats)))
            self.strength_ = _dirichlet_strength(n[rows], m, max_iter=self.max_iter, tol=self.tol)
        else:
            self.strength_ = float(self.strength)
        self.n_users_ = int(len(n))
        return self

    def transform(self, counts: pd.DataFrame, groups: pd.Series | None = None) -> pd.DataFrame:
        """The smoothed preferences: one row per user (indexed like ``counts``), one column per category.

        Each row sums to 1.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "province_mix_")
        n = _check_counts(counts, self.categories_)
        m = self._prior(counts.index, groups)
        s = self.strength_
        total = n.sum(axis=1, keepdims=True)
        total += s
        pref = s * m + n                         # a new array (the counts may be a read-only view)
        with np.errstate(invalid="ignore", divide="ignore"):
            pref /= total
        empty = total[:, 0] <= 0                 # strength 0 and no items: the prior
        if empty.any():
            pref[empty] = np.broadcast_to(m, pref.shape)[empty]
        return pd.DataFrame(pref, index=counts.index, columns=self.categories_)

    def to_dict(self) -> dict:
        """The fitted state as plain data (JSON-ready; no pickle): parameters, mixes and strength."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "province_mix_")
        return {
            "prior": self.prior, "strength": self.strength, "categories": list(self.categories_),
            "strength_": float(self.strength_), "n_users": self.n_users_,
            "province_mix": [float(v) for v in self.province_mix_.to_numpy()],
            "group_mix": None if self.group_mix_ is None else {
                str(g): [float(v) for v in row] for g, row in zip(self.group_mix_.index, self.group_mix_.to_numpy())},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "PreferenceModel":
        """Rebuild a fitted model from :meth:`to_dict`."""
        try:
            cats = [str(c) for c in d["categories"]]
            model = cls(strength=d.get("strength", "auto"), prior=d.get("prior", "province"), categories=cats)
            model.categories_ = cats
            model.province_mix_ = pd.Series(np.asarray(d["province_mix"], dtype=np.float64), index=cats, name="share")
            groups = d.get("group_mix")
            model.group_mix_ = None if not groups else pd.DataFrame(
                np.asarray(list(groups.values()), dtype=np.float64), index=pd.Index(list(groups), name="group"),
                columns=cats)
            model.strength_ = float(d["strength_"])
            model.n_users_ = int(d.get("n_users", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"not a saved preference model (PreferenceModel.to_dict()): {exc!r}") from None
        return model

    def predict(self, counts: pd.DataFrame, groups: pd.Series | None = None) -> pd.Series:
        """The top category of each user (pandas ``str``)."""
        pref = self.transform(counts, groups)
        top = np.asarray(self.categories_, dtype=object)[pref.to_numpy().argmax(axis=1)]
        return pd.Series(pd.array(top, dtype="str"), index=counts.index, name="top_category")


# ------------------------------------------------------------------ data
def counts_from_features(features: pd.DataFrame, categories=CONTENT_CATEGORIES) -> pd.DataFrame:
    """Item counts over the window from a feature table: ``content_<c>_mean x usage_months`` (rounded).

    The feature table of :func:`workbench.features.build_features` already holds
    the mean monthly items of each category over the window's months with a
    usage row, so the preference model of a snapshot needs no second scan of
    ``monthly_usage``.
    """
    need = ["usage_months", *(f"content_{c}_mean" for c in categories)]
    missing = [c for c in need if c not in features.columns]
    if missing:
        raise DataValidationError(f"the feature table lacks {missing}; expected the output of build_features()")
    months = features["usage_months"].to_numpy(dtype=np.float64)
    out = {c: np.rint(features[f"content_{c}_mean"].to_numpy(dtype=np.float64, na_value=0.0) * months)
           .astype(np.int64) for c in categories}
    return pd.DataFrame(out, index=features.index)


def _months(snapshot, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    snap = parse_month(snapshot)
    k = check_positive_int(months, "months")
    return add_months(snap, 1 - k), snap


def content_counts(source, snapshot="2026-10", months: int = 6, *, by_month: bool = False) -> pd.DataFrame:
    """Items of each content category consumed per subscriber over the ``months`` months ending with ``snapshot``.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``subscribers`` and ``monthly_usage``.
    snapshot : "YYYY-MM" or date
        Last month counted; nothing after its last day is read.
    months : int
        Months counted.
    by_month : bool
        One row per subscriber and month (with a ``month`` column) instead of the sums.

    Returns
    -------
    DataFrame
        Indexed by ``subscriber_id`` (every subscriber who joined on or before
        the snapshot month's last day, sorted; zeros without usage rows): one
        int64 column per category of :data:`~workbench.data.CONTENT_CATEGORIES`.
        With ``by_month`` only the rows present in ``monthly_usage``.
    """
    first, last = _months(snapshot, months)
    cols = [f"content_{c}" for c in CONTENT_CATEGORIES]
    with connection(source) as con:
        require(con, {"subscribers": ("subscriber_id", "join_date"),
                      "monthly_usage": ("subscriber_id", "month", *cols)}, "content_counts")
        where = (f"CAST(month AS DATE) >= {sql_date(first)} AND CAST(month AS DATE) <= {sql_date(month_end(last))}")
        if by_month:
            sel = ", ".join(f"CAST({c} AS BIGINT) AS {c[len('content_'):]}" for c in cols)
            df = con.execute(f"""SELECT subscriber_id, CAST(month AS DATE) AS month, {sel}
                                 FROM monthly_usage WHERE {where} ORDER BY subscriber_id, month""").df()
            df["month"] = pd.to_datetime(df["month"])
            return df.set_index("subscriber_id")
        sums = ", ".join(f"CAST(coalesce(sum(u.{c}), 0) AS BIGINT) AS {c[len('content_'):]}" for c in cols)
        df = con.execute(f"""
            SELECT s.subscriber_id, {sums}
            FROM subscribers s
            LEFT JOIN (SELECT * FROM monthly_usage WHERE {where}) u USING (subscriber_id)
            WHERE CAST(s.join_date AS DATE) <= {sql_date(month_end(last))}
            GROUP BY s.subscriber_id ORDER BY s.subscriber_id""").df()
    return df.set_index("subscriber_id")


def subscriber_groups(source, column: str = "branch_id") -> pd.Series:
    """A column of ``subscribers`` (default the branch) indexed by ``subscriber_id``, as pandas ``str``."""
    from workbench.data.tables import table

    table("subscribers").column(column)
    with connection(source) as con:
        require(con, {"subscribers": ("subscriber_id", column)}, "subscriber_groups")
        df = con.execute(f'SELECT subscriber_id, "{column}" AS g FROM subscribers ORDER BY subscriber_id').df()
    return pd.Series(df["g"].astype("str").to_numpy(), index=pd.Index(df["subscriber_id"], name="subscriber_id"),
                     name=column)


# ------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class PreferenceEvaluation:
    """Accuracy of the preference model on the held-out month.

    Attributes
    ----------
    table : DataFrame
        One row per (``segment``, ``method``): ``segment`` (``all`` or
        ``sparse``), ``method`` (``model``, ``raw``, ``popularity``), ``users``,
        ``top1``, ``ndcg``, ``loss``.
    k : int
        Depth of the NDCG.
    sparse_items : int
        A user is *sparse* with fewer items than this in the fitting months.
    strength : float
        Strength of the fitted model.
    fit_months, test_month : str
        The fitting months (``"YYYY-MM..YYYY-MM"``) and the held-out month.
    """

    table: pd.DataFrame
    k: int
    sparse_items: int
    strength: float
    fit_months: str = ""
    test_month: str = ""

    def value(self, method: str = "model", metric: str = "top1", segment: str = "all") -> float:
        """One figure of the table."""
        row = self.table[(self.table["method"] == method) & (self.table["segment"] == segment)]
        if row.empty or metric not in self.table.columns:
            raise ParameterError(f"no {metric!r} for method {method!r} and segment {segment!r}; methods are "
                                 f"{list(METHODS)}, segments ['all', 'sparse'], "
                                 "metrics ['top1', 'ndcg', 'loss', 'users']")
        return float(row[metric].iloc[0])

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"k": self.k, "sparse_items": self.sparse_items, "strength": self.strength,
                "fit_months": self.fit_months, "test_month": self.test_month,
                "table": self.table.to_dict(orient="records")}


def _ranking_scores(scores: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Scores with ties broken by popularity (a tiny, order-preserving nudge)."""
    rank_pop = np.argsort(np.argsort(-popularity, kind="stable"), kind="stable")   # 0 = most popular
    return scores - 1e-9 * rank_pop[None, :]


def _metrics(scores: np.ndarray, probs: np.ndarray, test: np.ndarray, k: int):
    """Per-user top-1 hit (0/1), NDCG@k and cross-entropy per item against held-out counts."""
    n, c = scores.shape
    k = min(k, c)
    order = np.argsort(-scores, axis=1, kind="stable")
    top = order[:, 0]
    hit = test[np.arange(n), top] == test.max(axis=1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (np.take_along_axis(test, order[:, :k], axis=1) * discount).sum(axis=1)
    ideal = (-np.sort(-test, axis=1)[:, :k] * discount).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndcg = np.where(ideal > 0, dcg / ideal, np.nan)
        loss = -(test * np.log(probs)).sum(axis=1) / test.sum(axis=1)
    return hit.astype(np.float64), ndcg, loss


def evaluate_counts(fit_counts: pd.DataFrame, test_counts: pd.DataFrame, *, groups: pd.Series | None = None,
                    strength="auto", prior: str = "province", k: int = 3, sparse_items: int = 10,
                    categories=CONTENT_CATEGORIES) -> PreferenceEvaluation:
    """Fit on ``fit_counts``, predict the ranking of categories in ``test_counts`` (pure function).

    Parameters
    ----------
    fit_counts, test_counts : DataFrame
        Item counts per user and category: the fitting period and the held-out
        month.  Users are matched on the index; users of ``test_counts`` with no
        item are not evaluated; users absent from ``fit_counts`` have no history.
    groups : Series, optional
        Group of each user (for ``prior="branch"``).
    strength, prior, categories
        As for :class:`PreferenceModel`.
    k : int
        Depth of the NDCG.
    sparse_items : int
        Users with fewer items than this in ``fit_counts`` form the ``sparse`` segment.

    Returns
    -------
    PreferenceEvaluation
    """
    k = check_positive_int(k, "k")
    sparse_items = check_positive_int(sparse_items, "sparse_items")
    cats = list(categories)
    model = PreferenceModel(strength=strength, prior=prior, categories=cats).fit(fit_counts, groups)
    test = _check_counts(test_counts, cats, "test_counts")
    keep = test.sum(axis=1) > 0
    test_idx = test_counts.index[keep]
    test = test[keep]
    history = fit_counts.reindex(test_idx).fillna(0)
    n_hist = _check_counts(history, cats, "fit_counts")
    popularity = model.province_mix_.to_numpy()
    pref = model.transform(history, groups).to_numpy()
    totals = n_hist.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(totals > 0, n_hist / totals, 0.0)
    raw = np.where(totals > 0, raw, popularity[None, :])
    scores = {
        "model": _ranking_scores(pref, popularity),
        "raw": _ranking_scores(raw, popularity),
        "popularity": _ranking_scores(np.zeros_like(pref), popularity),
    }
    probs = {
        "model": pref,
        "raw": (1 - _RAW_MIX) * raw + _RAW_MIX * popularity[None, :],
        "popularity": np.tile(popularity, (len(pref), 1)),
    }
    sparse = totals[:, 0] < sparse_items
    rows = []
    for segment, mask in (("all", np.ones(len(test), dtype=bool)), ("sparse", sparse)):
        for method in METHODS:
            hit, ndcg, loss = _metrics(scores[method][mask], probs[method][mask], test[mask], k)
            rows.append({"segment": segment, "method": method, "users": int(mask.sum()),
                         "top1": float(hit.mean()) if mask.any() else float("nan"),
                         "ndcg": float(np.nanmean(ndcg)) if mask.any() else float("nan"),
                         "loss": float(np.mean(loss)) if mask.any() else float("nan")})
    table = pd.DataFrame(rows)
    table["segment"] = table["segment"].astype("str")
    table["method"] = table["method"].astype("str")
    return PreferenceEvaluation(table=table, k=k, sparse_items=sparse_items, strength=model.strength_)


def evaluate_preference(source, snapshot="2026-10", months: int = 6, *, strength="auto", prior: str = "province",
                        k: int = 3, sparse_items: int = 10) -> PreferenceEvaluation:
    """Hold out the last month: fit on the ``months - 1`` months before ``snapshot``, predict ``snapshot``'s ranking.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    snapshot : "YYYY-MM" or date
        The held-out month.
    months : int
        Months of the window including the held-out one (at least 2).
    strength, prior, k, sparse_items
        See :func:`evaluate_counts`.

    Returns
    -------
    PreferenceEvaluation
    """
    snap = parse_month(snapshot)
    n_months = check_positive_int(months, "months", minimum=2)
    prev = add_months(snap, -1)
    with connection(source) as con:
        fit = content_counts(con, prev, n_months - 1)
        test = content_counts(con, snap, 1)
        groups = subscriber_groups(con) if prior == "branch" else None
    result = evaluate_counts(fit, test, groups=groups, strength=strength, prior=prior, k=k,
                             sparse_items=sparse_items)
    first = add_months(prev, 2 - n_months)
    return PreferenceEvaluation(table=result.table, k=result.k, sparse_items=result.sparse_items,
                                strength=result.strength, fit_months=f"{first:%Y-%m}..{prev:%Y-%m}",
                                test_month=f"{snap:%Y-%m}")


def truth_correlation(preferences: pd.DataFrame, truth: pd.DataFrame, *, prefix: str = "pref_",
                      raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """Correlation of estimated and true preferences, per category (synthetic province only).

    Parameters
    ----------
    preferences : DataFrame
        Estimated preferences (one column per category), indexed by subscriber.
    truth : DataFrame
        The ground truth, indexed by ``subscriber_id`` (or with that column),
        with ``<prefix><category>`` columns.
    prefix : str
        Prefix of the truth's preference columns.
    raw : DataFrame, optional
        Another estimate (e.g. raw shares) to report beside it.

    Returns
    -------
    DataFrame
        ``category``, ``model`` (Pearson correlation over the users in both
        tables) and, with ``raw``, ``raw``; a last row ``mean``.
    """
    if "subscriber_id" in truth.columns:
        truth = truth.set_index("subscriber_id")
    cats = [c for c in preferences.columns if f"{prefix}{c}" in truth.columns]
    if not cats:
        raise DataValidationError(f"the truth has no {prefix}<category> column for the categories "
                                  f"{list(preferences.columns)}")
    common = preferences.index.intersection(truth.index)
    out = {"category": cats + ["mean"]}
    for name, est in (("model", preferences), ("raw", raw)):
        if est is None:
            continue
        e = est.reindex(common)
        vals = [float(np.corrcoef(e[c].to_numpy(dtype=np.float64),
                                  truth.loc[common, f"{prefix}{c}"].to_numpy(dtype=np.float64))[0, 1]) for c in cats]
        out[name] = vals + [float(np.mean(vals))]
    frame = pd.DataFrame(out)
    frame["category"] = frame["category"].astype("str")
    return frame


# ------------------------------------------------------------------ matching
def edition_catalogue(source, product: str = "mobile_newspaper") -> pd.DataFrame:
    """The editions of a product family: ``product_id``, ``edition``, ``content_category`` (pandas ``str``).

    Raises
    ------
    DataValidationError
        The family has no product with both an edition and a content category.
    """
    fam = check_family(product, "product")
    with connection(source) as con:
        require(con, {"vas_products": ("product_id", "family", "edition", "content_category")}, "edition_catalogue")
        df = con.execute("""SELECT product_id, edition, content_category FROM vas_products
                            WHERE family = ? AND edition IS NOT NULL AND content_category IS NOT NULL
                            ORDER BY product_id""", [fam]).df()
    if df.empty:
        raise DataValidationError(f"vas_products has no product of family {fam!r} with an edition and a content "
                                  "category; there is nothing to match")
    order = {c: i for i, c in enumerate(CONTENT_CATEGORIES)}
    df = df.sort_values("content_category", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    return df.reset_index(drop=True).astype("str")


def _edition_frame(editions) -> pd.DataFrame:
    if not isinstance(editions, pd.DataFrame) or not {"edition", "content_category"} <= set(editions.columns):
        raise ParameterError.invalid("editions", "a DataFrame with 'edition' and 'content_category' columns "
                                     "(see edition_catalogue())", type(editions).__name__)
    if editions["content_category"].duplicated().any():
        raise ParameterError(f"two editions share a content category: {editions['content_category'].tolist()}")
    if len(editions) < 1:
        raise ParameterError("editions is empty; there is nothing to match")
    return editions


def match_editions(preferences: pd.DataFrame, editions: pd.DataFrame) -> pd.DataFrame:
    """The best edition for each user and the runner-up, by the user's preference.

    Parameters
    ----------
    preferences : DataFrame
        One row per user, one column per content category (:meth:`PreferenceModel.transform`).
    editions : DataFrame
        ``edition`` and ``content_category`` of each edition (:func:`edition_catalogue`).

    Returns
    -------
    DataFrame indexed like ``preferences``
        ``edition`` and ``edition_2`` (pandas ``str``; ``edition_2`` missing with
        a single edition), ``edition_pref`` and ``edition_2_pref`` (the user's
        preference for the two categories).  Ties go to the edition listed first.

    Raises
    ------
    DataValidationError
        An edition's category is not a column of ``preferences``.
    """
    editions = _edition_frame(editions)
    cats = editions["content_category"].astype("str").tolist()
    missing = [c for c in cats if c not in preferences.columns]
    if missing:
        raise DataValidationError(f"preferences lack the categories {missing} of the editions; columns are "
                                  f"{list(map(str, preferences.columns))}")
    p = preferences[cats].to_numpy(dtype=np.float64)
    order = np.argsort(-p, axis=1, kind="stable")
    names = editions["edition"].astype("str").to_numpy(dtype=object)
    rows = np.arange(len(p))
    out = pd.DataFrame({
        "edition": pd.array(names[order[:, 0]], dtype="str"),
        "edition_2": pd.array(names[order[:, 1]] if len(cats) > 1 else [None] * len(p), dtype="str"),
        "edition_pref": p[rows, order[:, 0]],
        "edition_2_pref": p[rows, order[:, 1]] if len(cats) > 1 else np.full(len(p), np.nan),
    }, index=preferences.index)
    return out


def preference_features(preferences: pd.DataFrame, editions: pd.DataFrame | None = None,
                        prefix: str = PREFERENCE_PREFIX) -> pd.DataFrame:
    """Preference columns for the target model: ``<prefix><category>`` and ``<prefix>edition_top``.

    ``<prefix>edition_top`` is the user's largest preference among the
    categories of the editions (how well the best edition fits them; without
    ``editions`` the largest preference of all).
    """
    out = preferences.add_prefix(prefix).astype(np.float64)
    cats = list(preferences.columns) if editions is None else _edition_frame(editions)["content_category"].tolist()
    out[f"{prefix}edition_top"] = preferences[cats].to_numpy(dtype=np.float64).max(axis=1)
    return out


def edition_agreement(source, matches: pd.DataFrame, product: str = "mobile_newspaper",
                      snapshot="2026-10") -> dict:
    """How often the matched edition is the edition a current subscriber chose.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    matches : DataFrame
        :func:`match_editions` output indexed by ``subscriber_id``.
    product : str
        Product family.
    snapshot : "YYYY-MM" or date
        Subscriptions open at its last day are compared.

    Returns
    -------
    dict
        ``subscribers`` (holding exactly one edition and matched), ``top1``
        (share whose edition is the best match), ``top2`` (best or runner-up),
        ``chance`` (share expected by matching everyone to the most common edition).
    """
    from workbench.features.subscriptions import spells_sql

    fam = check_family(product, "product")
    end = month_end(parse_month(snapshot))
    with connection(source) as con:
        held = con.execute(f"""
            SELECT s.subscriber_id, any_value(p.edition) AS edition
            FROM ({spells_sql(end, fam)}) s JOIN vas_products p USING (product_id)
            WHERE s.end_date IS NULL AND p.edition IS NOT NULL
            GROUP BY s.subscriber_id HAVING count(*) = 1""").df().set_index("subscriber_id")
    common = held.index.intersection(matches.index)
    if len(common) == 0:
        return {"subscribers": 0, "top1": float("nan"), "top2": float("nan"), "chance": float("nan")}
    chosen = held.loc[common, "edition"].astype("str")
    m = matches.loc[common]
    top1 = (m["edition"] == chosen).to_numpy(dtype=bool)
    top2 = top1 | (m["edition_2"] == chosen).fillna(False).to_numpy(dtype=bool)
    return {"subscribers": int(len(common)), "top1": float(top1.mean()), "top2": float(top2.mean()),
            "chance": float(chosen.value_counts(normalize=True).iloc[0])}
