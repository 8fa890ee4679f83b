"""Why the model scores a user high: global importance and per-user reason codes.

* :func:`global_importance` - total split gain per feature from the booster and,
  given data, mean absolute SHAP value (LightGBM's own exact TreeSHAP,
  ``pred_contrib=True``; no extra dependency).
* :func:`contributions` - the SHAP matrix (log-odds contribution of each feature
  to each row's score, plus the ``bias`` column; rows sum to the log-odds).
* :func:`reason_codes` - for every row, the ``top`` features with the largest
  POSITIVE contributions, in plain words in Chinese or English, e.g.
  "GPRS流量位于全省前10%" / "GPRS traffic in the top 10% of the province".

How a reason describes a value
------------------------------
numeric
    By the value's position among the scored population (the rows passed in):
    ``s_top`` = share of rows with a value >= it, ``s_bottom`` = share <= it.
    If ``s_top <= 50%`` it reads "in the top B%" with B the smallest band of
    ``REASON_BANDS`` (1, 5, 10, 20, 30, 40, 50) holding ``s_top``; else if
    ``s_bottom <= 50%`` "in the bottom B%"; else (a value shared by most rows,
    e.g. 0 for a rarely used service) "is 0".  Features with at most two
    distinct values (flags) and booleans read "is yes / no / value".
categorical
    "brand is M-Zone": the level's display text comes from ``value_labels``
    (mapping ``{feature: {level: text}}`` or callable ``(feature, level) ->
    text``), else from the catalogue key ``<feature>.<level>`` when it exists
    (``brand.mzone`` -> 动感地带), else the level itself.
missing
    "GPRS traffic is missing".

Display names of features come from ``feature_labels`` (mapping or callable;
the feature catalogue of :mod:`workbench.features` provides one), falling back
to the column name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import get_language, t
from workbench.models.rules import FeatureLabels, ValueLabels, feature_label, value_label
from workbench.models.schema import CATEGORICAL, as_text

__all__ = ["REASON_BANDS", "global_importance", "contributions", "reason_codes", "reason_distribution",
           "ValueLabels"]

#: Percent bands used to describe a numeric value's position.
REASON_BANDS: tuple[int, ...] = (1, 5, 10, 20, 30, 40, 50)
_SCOPES = ("province", "scored")


def _fitted(model):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "booster_")
    return model


def contributions(model, X: pd.DataFrame, *, chunk_size: int = 200_000, progress: bool = False,
                  encoded: np.ndarray | None = None) -> pd.DataFrame:
    """SHAP contributions (log-odds) of each feature to each row's score.

    Parameters
    ----------
    model : TargetModel
        A fitted model.
    X : DataFrame
        Rows to explain (feature columns by name).
    chunk_size : int
        Rows per call to the booster (bounds memory).
    progress : bool
        Show a tqdm bar over chunks.
    encoded : ndarray, optional
        ``model.encode(X)`` when already computed.

    Returns
    -------
    DataFrame
        One column per feature plus ``bias``, indexed like ``X``; each row sums
        to the model's log-odds for that row.
    """
    _fitted(model)
    matrix = model.encode(X) if encoded is None else encoded
    out = np.empty((len(matrix), matrix.shape[1] + 1), dtype=np.float64)
    starts = range(0, len(matrix), chunk_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="SHAP", unit="chunk")
    for i in starts:
        out[i:i + chunk_size] = model._booster_predict(matrix[i:i + chunk_size], pred_contrib=True)
    return pd.DataFrame(out, columns=[*model.feature_names_, "bias"], index=X.index)


def global_importance(model, X: pd.DataFrame | None = None, *, shap: pd.DataFrame | None = None) -> pd.DataFrame:
    """Global feature importance, most important first.

    Parameters
    ----------
    model : TargetModel
    X : DataFrame, optional
        Rows over which to average absolute SHAP values.
    shap : DataFrame, optional
        Precomputed :func:`contributions` (instead of ``X``).

    Returns
    -------
    DataFrame
        ``feature``, ``gain`` (total split gain), ``gain_share``, ``splits``
        (times used) and, with ``X`` or ``shap``, ``mean_abs_shap`` (sorted by it;
        else by gain).
    """
    _fitted(model)
    booster = model.booster_
    gain = booster.feature_importance("gain", iteration=model.best_iteration_)
    splits = booster.feature_importance("split", iteration=model.best_iteration_)
    total = gain.sum()
    table = pd.DataFrame({
        "feature": model.feature_names_,
        "gain": gain.astype(np.float64),
        "gain_share": gain / total if total > 0 else np.zeros(len(gain)),
        "splits": splits.astype(np.int64),
    })
    if shap is None and X is not None:
        shap = contributions(model, X)
    if shap is not None:
        table["mean_abs_shap"] = shap[model.feature_names_].abs().mean().to_numpy()
        return table.sort_values(["mean_abs_shap", "gain"], ascending=False, kind="stable").reset_index(drop=True)
    return table.sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ reasons
def _describe_numeric(name: str, label: str, values: np.ndarray, population: np.ndarray, is_bool: bool,
                      lang: str, scope: str) -> np.ndarray:
    """Reason texts for numeric ``values`` (rows whose reason is this feature)."""
    out = np.empty(len(values), dtype=object)
    miss = np.isnan(values)
    out[miss] = t("model.reason.missing", lang, feature=label)
    pop = np.sort(population[~np.isnan(population)])
    v = values[~miss]
    if len(v) == 0:
        return out
    flag = is_bool or len(np.unique(pop)) <= 2 or len(pop) == 0
    texts = np.empty(len(v), dtype=object)
    if flag:
        uniq, inv = np.unique(v, return_inverse=True)
        words = [t("common.yes", lang) if (is_bool and u == 1) else t("common.no", lang) if (is_bool and u == 0)
                 else f"{u:.3g}" for u in uniq]
        texts[:] = np.asarray([t("model.reason.is", lang, feature=label, value=w) for w in words],
                              dtype=object)[inv]
    else:
        n = len(pop)
        s_top = (n - np.searchsorted(pop, v, side="left")) / n
        s_bottom = np.searchsorted(pop, v, side="right") / n
        bands = np.asarray(REASON_BANDS) / 100.0
        top_band = np.searchsorted(bands, s_top - 1e-12, side="left")
        bottom_band = np.searchsorted(bands, s_bottom - 1e-12, side="left")
        use_top = s_top <= 0.5
        use_bottom = ~use_top & (s_bottom <= 0.5)
        scope_text = t(f"model.reason.scope.{scope}", lang)
        top_words = np.asarray([t("model.reason.top", lang, feature=label, pct=b, scope=scope_text)
                                for b in REASON_BANDS], dtype=object)
        bottom_words = np.asarray([t("model.reason.bottom", lang, feature=label, pct=b, scope=scope_text)
                                   for b in REASON_BANDS], dtype=object)
        texts[use_top] = top_words[top_band[use_top]]
        texts[use_bottom] = bottom_words[bottom_band[use_bottom]]
        rest = ~use_top & ~use_bottom
        if rest.any():
            uniq, inv = np.unique(v[rest], return_inverse=True)
            words = np.asarray([t("model.reason.is", lang, feature=label, value=f"{u:.3g}") for u in uniq],
                               dtype=object)
            texts[rest] = words[inv]
    out[~miss] = texts
    return out


def reason_codes(model, X: pd.DataFrame, *, top: int = 3, feature_labels: FeatureLabels = None,
                 value_labels: ValueLabels = None, lang: str | None = None, scope: str = "province",
                 shap: pd.DataFrame | None = None, progress: bool = False,
                 encoded: np.ndarray | None = None, rows=None) -> pd.DataFrame:
    """Per-row reason codes: the features pushing the score up the most, in words.

    Parameters
    ----------
    model : TargetModel
    X : DataFrame
        The scored population (percentiles are computed among these rows).
    top : int
        Reasons per row.
    feature_labels : mapping or callable, optional
        Display names of features (falls back to column names).
    value_labels : mapping or callable, optional
        Display texts of category levels (see the module docstring).
    lang : {"zh", "en"}, optional
        Language (default: the current language).
    scope : {"province", "scored"}
        How the population is named: "全省 / of the province" or
        "评分用户 / of scored users".
    shap : DataFrame, optional
        Precomputed :func:`contributions` of ``X`` (all rows, or the ``rows``).
    progress : bool
        Progress bar while computing contributions.
    encoded : ndarray, optional
        ``model.encode(X)`` when already computed.
    rows : array-like of int, optional
        Positions of the rows to explain (e.g. the top of the ranking: SHAP is the
        costly part); the other rows get missing reasons.  Percentiles are still
        computed among all rows of ``X``.

    Returns
    -------
    DataFrame indexed like ``X``
        ``reason_1 .. reason_<top>`` (text; missing when a row has fewer positive
        contributions) and ``reason_1_feature ..`` (the column behind each reason).

    Examples
    --------
    With a fitted ``model`` and the scored table ``X``::

        reasons = reason_codes(model, X, lang="en", feature_labels={"gprs_mb": "GPRS traffic"})
        reasons.loc[0, "reason_1"]   # 'GPRS traffic in the top 10% of the province'
    """
    _fitted(model)
    if not isinstance(top, int) or top < 1:
        raise ParameterError.invalid("top", "an integer >= 1", top)
    if scope not in _SCOPES:
        raise ParameterError.invalid("scope", f"one of {set(_SCOPES)}", scope)
    lang = lang or get_language()
    names = model.feature_names_
    matrix = model.encode(X) if encoded is None else encoded
    n_all = len(X)
    sel = np.arange(n_all) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(sel) and (sel.min() < 0 or sel.max() >= n_all):
        raise ParameterError(f"rows must be positions between 0 and {n_all - 1}; got {sel.min()} .. {sel.max()}.")
    if shap is None:
        shap = contributions(model, X.iloc[sel], progress=progress, encoded=matrix[sel])
    elif len(shap) == n_all and rows is not None:
        shap = shap.iloc[sel]
    C = shap[names].to_numpy()
    n, f = C.shape
    k = min(top, f)
    P = np.where(C > 0, C, -np.inf)
    idx = np.argpartition(-P, k - 1, axis=1)[:, :k] if f > k else np.tile(np.arange(f), (n, 1))
    vals = np.take_along_axis(P, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    valid = np.isfinite(np.take_along_axis(vals, order, axis=1))
    specs = model.features_
    labels = [feature_label(nm, feature_labels) for nm in names]
    texts: dict[int, pd.Series] = {}

    def describe(j: int, rows: np.ndarray) -> np.ndarray:
        spec = specs[j]
        if spec.kind == CATEGORICAL:
            if j not in texts:
                texts[j] = as_text(X[spec.name])
            raw = texts[j].to_numpy(dtype=object, na_value=None)[sel[rows]]
            out = np.empty(len(rows), dtype=object)
            uniq = pd.unique(pd.Series(raw, dtype=object))
            for u in uniq:
                hit = pd.isna(raw) if u is None or (isinstance(u, float) and np.isnan(u)) else raw == u
                out[hit] = (t("model.reason.missing", lang, feature=labels[j]) if u is None
                            else t("model.reason.is", lang, feature=labels[j],
                                   value=value_label(spec.name, str(u), value_labels, lang)))
            return out
        return _describe_numeric(spec.name, labels[j], matrix[sel[rows], j], matrix[:, j], spec.dtype == "bool",
                                 lang, scope)

    result = {}
    for slot in range(top):
        text = np.full(n_all, None, dtype=object)
        feat = np.full(n_all, None, dtype=object)
        if slot < k:
            col, ok = idx[:, slot], valid[:, slot]
            for j in np.unique(col[ok]):
                hit = np.flatnonzero(ok & (col == j))
                text[sel[hit]] = describe(int(j), hit)
                feat[sel[hit]] = names[j]
        result[f"reason_{slot + 1}"] = pd.array(text, dtype="str")
        result[f"reason_{slot + 1}_feature"] = pd.array(feat, dtype="str")
    ordered = [f"reason_{s + 1}" for s in range(top)] + [f"reason_{s + 1}_feature" for s in range(top)]
    return pd.DataFrame(result, index=X.index)[ordered]


def reason_distribution(reasons: pd.DataFrame, *, slots: int | None = None) -> pd.DataFrame:
    """How often each feature is a reason: counts per slot and in total.

    Parameters
    ----------
    reasons : DataFrame
        Output of :func:`reason_codes` (``reason_<i>_feature`` columns).
    slots : int, optional
        Use only the first ``slots`` reasons (default all).

    Returns
    -------
    DataFrame
        ``feature``, ``reason_1`` .. counts, ``total``, ``share`` (of rows having
        the feature among their reasons), most frequent first (ties: more first
        reasons first, then by name).
    """
    cols = sorted((c for c in reasons.columns if c.startswith("reason_") and c.endswith("_feature")),
                  key=lambda c: int(c.split("_")[1]))
    if not cols:
        raise ParameterError(f"reasons has no reason_<i>_feature column; columns: {list(reasons.columns)}")
    cols = cols[:slots] if slots else cols
    counts = {c.removesuffix("_feature"): reasons[c].value_counts(dropna=True) for c in cols}
    table = pd.DataFrame(counts).fillna(0).astype(np.int64)
    table["total"] = table.sum(axis=1)
    table["share"] = table["total"] / max(len(reasons), 1)
    table.index.name = "feature"
    slots_ = [c.removesuffix("_feature") for c in cols]
    table = table.sort_index().sort_values(["total", *slots_], ascending=False, kind="stable")
    return table.reset_index()
