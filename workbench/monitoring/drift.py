"""Reference distributions of a model's inputs and score, and the population stability index (PSI).

A *reference* is a plain dict (written as ``reference.json`` in a model folder, see
:func:`workbench.models.registry.save_reference`) built from the training table:

* a **numeric** column: the interior bin edges at the quantiles ``1/n_bins .. (n_bins-1)/n_bins`` of
  the training values (repeated edges merged), giving right-closed bins ``(-inf, e1], (e1, e2], ...,
  (ek, inf)``, plus a last bin for missing values; the reference holds the training share of each bin.
* a **categorical** column: the shares of the ``max_categories`` most frequent training levels, an
  ``other`` bucket (rarer training levels, and at monitoring time every level unseen at training)
  and a missing bucket.
* the **score**: binned like a numeric column.

PSI of a column against a new table is ``sum_i (a_i - e_i) * ln(a_i / e_i)`` over its bins, with
``e`` the reference shares and ``a`` the new ones.  An empty bin would make the logarithm infinite,
so every share is floored at :data:`EPSILON` (1e-4, i.e. one row in 10,000) before the sum: a bin
empty on one side then adds a finite, still large, term.  Status: ``ok`` below ``watch`` (default
0.1), ``watch`` from ``watch`` up to ``alert`` (default 0.25), ``alert`` from ``alert`` on - the
usual credit-scoring rule of thumb.

Note on categories: doubling the share of a level moves PSI by roughly ``p * ln 2`` plus the
shrinking of the others, so doubling a level of 30 % gives about 0.38 (alert) but doubling a level
of 10 % gives about 0.09 (ok).  PSI measures how much of the population moved, not how much one
small segment grew.

Compute only: numpy and pandas, nothing drawn or worded here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_int, check_num, require_columns
from workbench.errors import DataValidationError, ParameterError

__all__ = ["FORMAT", "EPSILON", "WATCH", "ALERT", "NUMERIC", "CATEGORICAL", "OTHER", "MISSING",
           "build_reference", "bin_shares", "psi", "status_of", "check_thresholds", "compare",
           "check_reference", "check_table"]

#: Format tag and version of a reference dict.
FORMAT = {"name": "workbench.monitoring_reference", "version": 1}
#: Floor of every bin share before PSI is summed (an empty bin would give an infinite term).
EPSILON = 1e-4
#: Default PSI thresholds: ``watch`` from 0.1, ``alert`` from 0.25.
WATCH, ALERT = 0.1, 0.25
NUMERIC, CATEGORICAL = "numeric", "categorical"
#: Names of the extra buckets of a categorical column.
OTHER, MISSING = "__other__", "__missing__"


def _kind_of(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype):
        return NUMERIC
    return CATEGORICAL


def _as_float(s: pd.Series, name: str) -> np.ndarray:
    try:
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        examples = s.dropna().astype(str).head(5).tolist()
        raise DataValidationError(
            f"column {name!r} must be numeric (it was numeric at training); found values such as {examples}",
            [{"table": "monitored", "column": name, "check": "numeric", "count": 1, "examples": examples}],
        ) from None


def _as_text(s: pd.Series) -> pd.Series:
    """Category values as text (missing kept missing), so 1 and "1" are the same level."""
    return s.astype(str).astype(object).where(s.notna().to_numpy(), None)


def _numeric_bins(x: np.ndarray, n_bins: int) -> dict:
    v = x[~np.isnan(x)]
    if len(v):
        edges = np.unique(np.quantile(v, np.arange(1, n_bins) / n_bins))
    else:
        edges = np.empty(0)
    ref = {"kind": NUMERIC, "edges": edges.tolist()}
    ref["shares"] = bin_shares(ref, x).tolist()
    return ref


def _categorical_bins(s: pd.Series, max_categories: int) -> dict:
    text = _as_text(s)
    counts = text.value_counts(dropna=True)
    levels = counts.index[:max_categories].map(str).tolist()
    ref = {"kind": CATEGORICAL, "levels": levels}
    ref["shares"] = bin_shares(ref, s).tolist()
    return ref


def bin_shares(ref: dict, values) -> np.ndarray:
    """Shares of ``values`` in the bins of one reference entry (``kind``, ``edges`` or ``levels``).

    Numeric: ``len(edges) + 1`` right-closed bins then the missing bin.  Categorical: one bin per
    level, then ``other`` (levels not in the reference), then missing.  All zero for no values.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    n = len(s)
    if ref["kind"] == NUMERIC:
        x = s.to_numpy(dtype=np.float64, na_value=np.nan) if pd.api.types.is_numeric_dtype(s.dtype) \
            else _as_float(s, str(s.name))
        edges = np.asarray(ref["edges"], dtype=np.float64)
        miss = np.isnan(x)
        idx = np.where(miss, len(edges) + 1, np.searchsorted(edges, x, side="left"))
        counts = np.bincount(idx, minlength=len(edges) + 2)
    else:
        levels = list(ref["levels"])
        text = _as_text(s)
        codes = pd.Index(levels, dtype=object).get_indexer(text.to_numpy()).astype(np.int64)  # -1: other or missing
        codes = np.where(codes >= 0, codes, np.where(text.isna().to_numpy(), len(levels) + 1, len(levels)))
        counts = np.bincount(codes, minlength=len(levels) + 2)
    return counts / n if n else counts.astype(np.float64)


def build_reference(X: pd.DataFrame, score=None, *, kinds: dict | None = None, n_bins: int = 10,
                    max_categories: int = 20, performance: dict | None = None) -> dict:
    """The reference distributions of every column of ``X`` (and of ``score``).

    Parameters
    ----------
    X : DataFrame
        The training features (one column per model input).
    score : array-like, optional
        The model's score on the same rows.
    kinds : dict, optional
        Column -> ``"numeric"`` or ``"categorical"`` (e.g. the model's feature specs); by default
        numeric dtypes (not booleans) are numeric and everything else categorical.
    n_bins : int
        Quantile bins of a numeric column (fewer when values repeat).
    max_categories : int
        Levels of a categorical column kept by name; the rarer ones share the ``other`` bucket.
    performance : dict, optional
        Figures at training (e.g. ``{"auc": ..., "top_decile_lift": ...}``), stored as given.

    Returns
    -------
    dict
        ``format``, ``rows``, ``n_bins``, ``epsilon``, ``features`` (name -> bins and shares),
        ``score`` (or None), ``performance`` (or None).  JSON-ready.
    """
    require_columns(X, "X", [])
    n_bins = check_int("n_bins", n_bins, 2, 100)
    max_categories = check_int("max_categories", max_categories, 1, 1000)
    if len(X) == 0:
        raise ParameterError("a reference needs training rows; X has none.")
    kinds = dict(kinds or {})
    features = {}
    for col in X.columns:
        kind = kinds.get(col) or _kind_of(X[col])
        if kind not in (NUMERIC, CATEGORICAL):
            raise ParameterError.invalid(f"kinds[{col!r}]", f"{NUMERIC!r} or {CATEGORICAL!r}", kind)
        features[str(col)] = (_numeric_bins(_as_float(X[col], str(col)), n_bins) if kind == NUMERIC
                              else _categorical_bins(X[col], max_categories))
    ref_score = None
    if score is not None:
        s = np.asarray(score, dtype=np.float64).ravel()
        if len(s) != len(X):
            raise ParameterError(f"score has {len(s)} values; expected one per row of X ({len(X)}).")
        ref_score = _numeric_bins(s, n_bins)
    return {"format": dict(FORMAT), "rows": int(len(X)), "n_bins": n_bins, "epsilon": EPSILON,
            "features": features, "score": ref_score, "performance": performance}


def psi(expected, actual, *, epsilon: float = EPSILON) -> float:
    """Population stability index of two share vectors over the same bins (shares floored at ``epsilon``).

    Examples
    --------
    >>> round(psi([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    >>> round(psi([0.5, 0.5], [0.25, 0.75]), 3)
    0.275
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    if e.shape != a.shape:
        raise ParameterError(f"expected and actual shares differ in length ({e.shape} vs {a.shape}).")
    return float(np.sum((a - e) * np.log(a / e)))


def check_thresholds(watch: float = WATCH, alert: float = ALERT) -> tuple[float, float]:
    """``watch`` > 0 and ``alert`` > ``watch`` (the message names the parameter)."""
    watch = check_num("watch", watch, 0, None, lo_open=True)
    alert = check_num("alert", alert, watch, None, lo_open=True)
    return watch, alert


def status_of(value: float, watch: float = WATCH, alert: float = ALERT) -> str:
    """``"ok"`` below ``watch``, ``"watch"`` below ``alert``, else ``"alert"``."""
    return "alert" if value >= alert else "watch" if value >= watch else "ok"


def check_reference(reference, where: str = "the reference") -> dict:
    """``reference`` is a dict written by :func:`build_reference` of a supported format version."""
    fmt = reference.get("format", {}) if isinstance(reference, dict) else {}
    if fmt.get("name") != FORMAT["name"] or fmt.get("version", 0) > FORMAT["version"] \
            or not isinstance(reference.get("features"), dict):
        raise ParameterError(f"{where} is not a monitoring reference: expected format {FORMAT['name']!r} up to "
                             f"version {FORMAT['version']}, found {fmt!r}.")
    return reference


def compare(reference: dict, df: pd.DataFrame, score=None, *, watch: float = WATCH, alert: float = ALERT,
            table: str = "the new table") -> dict:
    """PSI of every reference feature (and of the score) on ``df``, with a status.

    Parameters
    ----------
    reference : dict
        From :func:`build_reference` (or ``reference.json``).
    df : DataFrame
        The new table; it must hold every reference feature (extra columns are ignored).
    score : array-like, optional
        The model's score on ``df`` (compared when the reference has a score).
    watch, alert : float
        PSI thresholds (``0 < watch < alert``).
    table : str
        Name of ``df`` for messages.

    Returns
    -------
    dict
        ``features``: DataFrame ``feature``, ``kind``, ``psi``, ``status`` (reference order);
        ``score``: ``{"psi", "status"}`` or None; ``bins``: feature -> DataFrame ``bin``,
        ``expected``, ``actual``; ``rows``; ``thresholds``.

    Raises
    ------
    DataValidationError
        ``df`` lacks reference features, or a numeric feature holds text.
    ParameterError
        ``df`` has no rows, bad thresholds or reference.
    """
    watch, alert = check_thresholds(watch, alert)
    check_table(reference, df, table)
    feats = reference["features"]
    eps = float(reference.get("epsilon", EPSILON))
    rows, bins = [], {}
    for name, ref in feats.items():
        actual = bin_shares(ref, df[name].rename(name))
        expected = np.asarray(ref["shares"], dtype=np.float64)
        value = psi(expected, actual, epsilon=eps)
        rows.append({"feature": name, "kind": ref["kind"], "psi": value, "status": status_of(value, watch, alert)})
        bins[name] = pd.DataFrame({"bin": _bin_names(ref), "expected": expected, "actual": actual})
    out_score = None
    if score is not None and reference.get("score"):
        ref = reference["score"]
        value = psi(ref["shares"], bin_shares(ref, np.asarray(score, dtype=np.float64).ravel()), epsilon=eps)
        out_score = {"psi": value, "status": status_of(value, watch, alert)}
    return {"features": pd.DataFrame(rows, columns=["feature", "kind", "psi", "status"]), "score": out_score,
            "bins": bins, "rows": int(len(df)), "thresholds": {"watch": watch, "alert": alert}}


def check_table(reference: dict, df: pd.DataFrame, table: str = "the new table") -> None:
    """``df`` is a DataFrame with rows and every feature of ``reference`` (the message names the missing
    columns, the expected and the found ones)."""
    check_reference(reference)
    feats = reference["features"]
    if not isinstance(df, pd.DataFrame):
        raise ParameterError.invalid("df", "a pandas DataFrame", type(df).__name__)
    missing = [c for c in feats if c not in df.columns]
    if missing:
        found = str(list(map(str, df.columns)))
        exc = DataValidationError.keyed(
            f"{table} lacks column(s) {missing} the model was trained on; expected {list(feats)}, found {found}",
            "errors.monitor.lacks_columns", table=table, missing=str(missing), expected=str(list(feats)), found=found)
        exc.problems = [{"table": str(table), "column": c, "check": "present", "count": 1, "examples": []}
                        for c in missing]
        raise exc
    if len(df) == 0:
        raise ParameterError.keyed(f"{table} has no rows; expected at least one row to compare with the reference.",
                                   "errors.monitor.no_rows", table=table)


def _bin_names(ref: dict) -> list[str]:
    if ref["kind"] == CATEGORICAL:
        return [*ref["levels"], OTHER, MISSING]
    e = [f"{v:.6g}" for v in ref["edges"]]
    if not e:
        return ["all", MISSING]
    return [f"<= {e[0]}", *(f"({a}, {b}]" for a, b in zip(e[:-1], e[1:])), f"> {e[-1]}", MISSING]
