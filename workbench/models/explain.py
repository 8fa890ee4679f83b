"""Why the model scores a user high: global importance and per-user reason codes.

* :func:`global_importance` - total split gain per feature from the booster and,
  given data, mean absolute SHAP value (LightGBM's own exact TreeSHAP,
  ``pred_contrib=True``; no extra dependency).
* :func:`contributions` - the SHAP matrix (log-odds contribution of each feature
  to each row's score, plus the ``bias`` column; rows sum to the log-odds).
* :func:`reason_codes` - for every row, the ``top`` features with the largest
  POSITIVE contributions, as a structured code (feature, value, band) and in words
  a caller can say (:mod:`workbench.models.reason_words`), e.g.
  "月均流量 812 MB，高于全省 95% 的用户" / "Customer for 8 months".

How a reason describes a value
------------------------------
numeric
    By the value itself (rounded as people say it: whole from 10 up) and its
    position among the scored population (the rows passed in): ``s_top`` =
    share of rows with a value >= it, ``s_bottom`` = share <= it.  If
    ``s_top <= 50%`` its band is "top B" with B the smallest band of
    ``REASON_BANDS`` (1, 5, 10, 20, 30, 40, 50) holding ``s_top`` (said "more
    than (100 - B)% of users"); else if ``s_bottom <= 50%`` "bottom B" ("less
    than (100 - B)%"); else (a value shared by most rows, e.g. 0 for a rarely
    used service) no band.  Features with at most two distinct values (flags)
    and booleans get no band.
categorical
    The level; its display text comes from the family's phrase, ``value_labels``
    (mapping ``{feature: {level: text}}`` or callable ``(feature, level) ->
    text``), the catalogue key ``<feature>.<level>`` when it exists
    (``brand.mzone`` -> 动感地带), else the level itself.
missing
    A value of None ("从未订购过飞信", "年龄未知").

Features of the workbench's catalogue have a phrase per family; any other feature
is said as "<display name>: <value>", the display name from ``feature_labels``
(mapping or callable), falling back to the column name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import get_language
from workbench.models.reason_words import DEFAULT_WINDOW_MONTHS, Reason, say
from workbench.models.rules import FeatureLabels, ValueLabels
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
def _band_codes(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Band of each value among ``population`` (sorted, no NaN): +i for the i-th top band, -i for the i-th
    bottom band (1-based into :data:`REASON_BANDS`), 0 for neither (a value most of the population shares)."""
    n = len(population)
    s_top = (n - np.searchsorted(population, values, side="left")) / n
    s_bottom = np.searchsorted(population, values, side="right") / n
    bands = np.asarray(REASON_BANDS) / 100.0
    top_band = np.searchsorted(bands, s_top - 1e-12, side="left") + 1
    bottom_band = np.searchsorted(bands, s_bottom - 1e-12, side="left") + 1
    use_top = s_top <= 0.5
    use_bottom = ~use_top & (s_bottom <= 0.5)
    return np.where(use_top, top_band, np.where(use_bottom, -bottom_band, 0)).astype(np.int64)


def _numeric_reasons(name: str, values: np.ndarray, population: np.ndarray, is_bool: bool,
                     speak) -> tuple[np.ndarray, np.ndarray]:
    """Words and codes of numeric ``values`` (rows whose reason is feature ``name``): one phrase per
    distinct (spoken value, band)."""
    pop = np.sort(population[~np.isnan(population)])
    flag = is_bool or len(np.unique(pop)) <= 2 or len(pop) == 0
    spoken = np.where(np.abs(values) >= 10, np.round(values), np.round(values, 1))
    band = np.zeros(len(values), dtype=np.int64)
    known = ~np.isnan(values)
    if not flag and known.any():
        band[known] = _band_codes(values[known], pop)
    tenths = np.where(known, np.round(np.nan_to_num(spoken) * 10), 0).astype(np.int64)
    key = np.where(known, tenths * 32 + band + 16, np.iinfo(np.int64).min)
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    texts = np.empty(len(uniq), dtype=object)
    codes = np.empty(len(uniq), dtype=object)
    for k, i in enumerate(first):
        if not known[i]:
            reason = Reason(name, None)
        elif is_bool:
            reason = Reason(name, bool(values[i]))
        else:
            b = int(band[i])
            reason = Reason(name, float(spoken[i]),
                            None if b == 0 else f"{'top' if b > 0 else 'bottom'}{REASON_BANDS[abs(b) - 1]}")
        texts[k], codes[k] = speak(reason), reason.code()
    return texts[inv.ravel()], codes[inv.ravel()]


def reason_codes(model, X: pd.DataFrame, *, top: int = 3, feature_labels: FeatureLabels = None,
                 value_labels: ValueLabels = None, lang: str | None = None, scope: str = "province",
                 shap: pd.DataFrame | None = None, progress: bool = False,
                 encoded: np.ndarray | None = None, rows=None, window: int = DEFAULT_WINDOW_MONTHS,
                 values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-row reason codes: the features pushing the score up the most, in words a caller can say.

    Parameters
    ----------
    model : TargetModel
    X : DataFrame
        The scored population (percentiles are computed among these rows).
    top : int
        Reasons per row.
    feature_labels : mapping or callable, optional
        Display names of features that have no phrase of their own (:mod:`workbench.models.reason_words`;
        falls back to column names).
    value_labels : mapping or callable, optional
        Display texts of category levels (see the module docstring).
    lang : {"zh", "en"}, optional
        Language (default: the current language).
    scope : {"province", "scored"}
        Whom a position compares with: "全省的用户 / users in the province" or
        "评分用户 / scored users".
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
    window : int
        Months of history the features read (said as "in the last 6 months").
    values : DataFrame, optional
        The same rows (same index) as the words should describe them, when ``X`` is what the
        model scores but not what a caller should say (the look-alike scores users as they will
        look months on: the words say the observed tenure).  Default ``X``.

    Returns
    -------
    DataFrame indexed like ``X``
        ``reason_1 .. reason_<top>`` (words; missing when a row has fewer positive
        contributions), ``reason_1_feature ..`` (the column behind each reason) and
        ``reason_1_code ..`` (the structured reason, :meth:`Reason.code`: feature, value, band).

    Examples
    --------
    With a fitted ``model`` and the scored table ``X``::

        reasons = reason_codes(model, X, lang="en")
        reasons.loc[0, "reason_1"]   # 'Mobile data: 812 MB a month on average, more than 95% of users ...'
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
    if values is not None and not values.index.equals(X.index):
        raise ParameterError("values must hold the rows of X in the same order (the same index).")
    if shap is None:
        shap = contributions(model, X.iloc[sel], progress=progress, encoded=matrix[sel])
    elif len(shap) == n_all and rows is not None:
        shap = shap.iloc[sel]
    shown, frame = (matrix, X) if values is None else (model.encode(values), values)
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
    texts: dict[int, pd.Series] = {}

    def speak(reason: Reason) -> str:
        return say(reason, lang, scope=scope, window=window, feature_labels=feature_labels,
                   value_labels=value_labels)

    def describe(j: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spec = specs[j]
        if spec.kind == CATEGORICAL:
            if j not in texts:
                texts[j] = as_text(frame[spec.name])
            raw = texts[j].to_numpy(dtype=object, na_value=None)[sel[rows]]
            words = np.empty(len(rows), dtype=object)
            codes = np.empty(len(rows), dtype=object)
            for u in pd.unique(pd.Series(raw, dtype=object)):
                missing = u is None or (isinstance(u, float) and np.isnan(u))
                hit = pd.isna(raw) if missing else raw == u
                reason = Reason(spec.name, None if missing else str(u))
                words[hit], codes[hit] = speak(reason), reason.code()
            return words, codes
        return _numeric_reasons(spec.name, shown[sel[rows], j], shown[:, j], spec.dtype == "bool", speak)

    result = {}
    for slot in range(top):
        text = np.full(n_all, None, dtype=object)
        feat = np.full(n_all, None, dtype=object)
        code = np.full(n_all, None, dtype=object)
        if slot < k:
            col, ok = idx[:, slot], valid[:, slot]
            for j in np.unique(col[ok]):
                hit = np.flatnonzero(ok & (col == j))
                text[sel[hit]], code[sel[hit]] = describe(int(j), hit)
                feat[sel[hit]] = names[j]
        result[f"reason_{slot + 1}"] = pd.array(text, dtype="str")
        result[f"reason_{slot + 1}_feature"] = pd.array(feat, dtype="str")
        result[f"reason_{slot + 1}_code"] = pd.array(code, dtype="str")
    ordered = ([f"reason_{s + 1}" for s in range(top)] + [f"reason_{s + 1}_feature" for s in range(top)]
               + [f"reason_{s + 1}_code" for s in range(top)])
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
