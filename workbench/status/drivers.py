"""Drivers of uptake: information value and top-bin lift of every feature.

A feature is **binned**: a numeric feature by quantiles (the distinct
quantiles at levels 1/bins ... (bins-1)/bins, taken as observed values, are
the cut points of right-closed bins ``(lo, hi]``, so a mass of ties such as
many zeros forms its own bin), a
categorical or boolean feature by its values; a missing value is its own bin
``"missing"``.  Per bin, with *e* events (target 1) and *n* non-events
(smoothing *s* added to each bin's counts):

    woe  = ln( ((e + s) / (E + s B)) / ((n + s) / (N + s B)) )
    IV   = sum over bins of ((e + s)/(E + s B) - (n + s)/(N + s B)) * woe

The **top bin** is the bin with the highest event rate among bins holding at
least ``min_bin_share`` of the rows; its **lift** is that rate over the overall
rate.  Everything is vectorised per feature (numpy ``searchsorted`` and
``bincount``); there is no per-row Python.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from workbench.errors import ParameterError

__all__ = ["Binning", "fit_binning", "woe_table", "information_value", "uptake_drivers", "own_feature_names",
           "MISSING"]

#: Label of the bin of missing values.
MISSING = "missing"


@dataclass(frozen=True)
class Binning:
    """How one feature is cut into bins.

    ``edges`` (numeric) are the cut points of right-closed bins; ``categories`` (categorical)
    the values, one bin each.  Missing values (and, for categories, values not
    seen when fitting) go to the last bin, labelled ``"missing"``.
    """

    feature: str
    kind: str
    labels: tuple[str, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def codes(self, values: pd.Series) -> np.ndarray:
        """Bin number of each value (``len(labels) - 1`` is the missing bin)."""
        missing = len(self.labels) - 1
        if self.kind == "numeric":
            x = _numeric(values)
            code = np.searchsorted(np.asarray(self.edges, dtype="float64"), x, side="left")
            return np.where(np.isnan(x), missing, code)
        raw, uniques = _factorize(values)
        position = {c: i for i, c in enumerate(self.categories)}
        lut = np.array([position.get(u, missing) for u in uniques] + [missing], dtype="int64")
        return lut[raw]  # a missing value (-1) takes the last entry


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code of each value (-1 when missing) and the text of each code (hash-based, no per-row str)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return (np.asarray(values.cat.codes, dtype="int64"), [str(c) for c in values.cat.categories])
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype="int64"), [str(u) for u in uniques]


def _is_numeric(values: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            and not isinstance(values.dtype, pd.CategoricalDtype))


def fit_binning(values: pd.Series, bins: int = 10, name: str | None = None) -> Binning:
    """Quantile bins of a numeric series, one bin per value of anything else (see the module docstring)."""
    feature = str(name if name is not None else values.name)
    if _is_numeric(values):
        x = _numeric(values)
        x = x[~np.isnan(x)]
        if x.size == 0:
            return Binning(feature, "numeric", (MISSING,))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))
        if edges.size and edges[-1] >= x.max():
            edges = edges[:-1]
        labels = [f"<= {edges[0]:.4g}"] if edges.size else [f"[{x.min():.4g}, {x.max():.4g}]"]
        labels += [f"({lo:.4g}, {hi:.4g}]" for lo, hi in zip(edges[:-1], edges[1:])]
        if edges.size:
            labels.append(f"> {edges[-1]:.4g}")
        return Binning(feature, "numeric", (*labels, MISSING), edges=tuple(float(v) for v in edges))
    raw, uniques = _factorize(values)
    seen = np.bincount(raw[raw >= 0], minlength=len(uniques)) > 0
    cats = tuple(sorted({u for u, s in zip(uniques, seen) if s}))
    return Binning(feature, "categorical", (*cats, MISSING), categories=cats)


def _check_target(target: pd.Series | np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(target)
    if y.shape != (n,):
        raise ParameterError.invalid("target", f"one value per row ({n})", f"shape {y.shape}")
    if pd.isna(y).any() or not np.isin(y, [0, 1, True, False]).all():
        raise ParameterError.invalid("target", "0/1 or boolean without missing values",
                                     sorted(set(pd.unique(y).tolist()) - {0, 1}, key=str)[:5])
    return y.astype("int64")


def woe_table(values: pd.Series, target, *, bins: int = 10, smoothing: float = 0.5,
              binning: Binning | None = None) -> pd.DataFrame:
    """Per-bin counts, event rate, weight of evidence and IV contribution of one feature.

    Parameters
    ----------
    values : pandas.Series
        The feature.
    target : array-like of 0/1 or bool
        One value per row.
    bins : int
        Quantile bins for a numeric feature.
    smoothing : float
        Added to every bin's event and non-event counts (0 for none).
    binning : Binning, optional
        A binning already fitted (default: fitted on ``values``).

    Returns
    -------
    pandas.DataFrame
        ``bin, label, rows, events, non_events, share, rate, woe, iv`` for every
        bin with rows (the empty missing bin is dropped).
    """
    y = _check_target(target, len(values))
    if smoothing < 0:
        raise ParameterError.invalid("smoothing", "a number >= 0", smoothing)
    b = binning or fit_binning(values, _check_bins(bins))
    return _woe(b.codes(values), y, b.labels, smoothing)


def _woe(code: np.ndarray, y: np.ndarray, labels: tuple[str, ...], smoothing: float) -> pd.DataFrame:
    k = len(labels)
    events = np.bincount(code, weights=y, minlength=k)
    rows = np.bincount(code, minlength=k).astype("float64")
    non = rows - events
    keep = rows > 0
    events, rows, non = events[keep], rows[keep], non[keep]
    nb = int(keep.sum())
    pe = (events + smoothing) / (events.sum() + smoothing * nb)
    pn = (non + smoothing) / (non.sum() + smoothing * nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        woe = np.log(pe / pn)
        iv = (pe - pn) * woe
    return pd.DataFrame({
        "bin": np.flatnonzero(keep), "label": np.asarray(labels, dtype=object)[keep],
        "rows": rows.astype("int64"), "events": events.astype("int64"), "non_events": non.astype("int64"),
        "share": rows / rows.sum(), "rate": events / rows, "woe": woe, "iv": iv,
    })


def information_value(frame: pd.DataFrame, target, *, features: Sequence[str] | None = None, bins: int = 10,
                      min_bin_share: float = 0.01, smoothing: float = 0.5, progress: bool = False) -> pd.DataFrame:
    """Information value and top-bin lift of each feature, ranked.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per subscriber of the sample.
    target : array-like of 0/1 or bool, or str
        The event (e.g. stable subscriber), or the name of a column of ``frame``.
    features : sequence of str, optional
        Columns to rank (default: every column but the target).
    bins : int
        Quantile bins of numeric features.
    min_bin_share : float
        Smallest share of rows a bin needs to be the top bin.
    smoothing : float
        See :func:`woe_table`.
    progress : bool
        Show a tqdm progress bar over the features.

    Returns
    -------
    pandas.DataFrame
        ``rank, feature, kind, iv, bins, top_bin, top_bin_share, top_bin_rate,
        lift`` sorted by decreasing IV (rank 1 first).  A feature with one bin
        has IV 0.
    """
    if isinstance(target, str):
        if target not in frame.columns:
            raise ParameterError.invalid("target", f"a column of the frame ({list(frame.columns)[:10]}...)", target)
        y_col, target = target, frame[target]
    else:
        y_col = None
    y = _check_target(target, len(frame))
    if y.sum() == 0 or y.sum() == len(y):
        raise ParameterError.invalid("target", "both events and non-events", f"{int(y.sum())} events in {len(y)} rows")
    bins = _check_bins(bins)
    if not 0 <= min_bin_share < 1:
        raise ParameterError.invalid("min_bin_share", "a share in [0, 1)", min_bin_share)
    names = list(features) if features is not None else [c for c in frame.columns if c != y_col]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ParameterError.invalid("features", "columns of the frame", missing)
    if smoothing < 0:
        raise ParameterError.invalid("smoothing", "a number >= 0", smoothing)
    overall = y.mean()
    rows = []
    for name in tqdm(names, desc="information value", unit="feature", disable=not progress):
        b = fit_binning(frame[name], bins, name)
        w = _woe(b.codes(frame[name]), y, b.labels, smoothing)
        eligible = w[w["share"] >= min_bin_share]
        top = (eligible if len(eligible) else w).sort_values(["rate", "rows"], ascending=False).iloc[0]
        rows.append({"feature": name, "kind": b.kind, "iv": float(w["iv"].sum()) if len(w) > 1 else 0.0,
                     "bins": len(w), "top_bin": top["label"], "top_bin_share": float(top["share"]),
                     "top_bin_rate": float(top["rate"]), "lift": float(top["rate"] / overall)})
    out = pd.DataFrame(rows, columns=["feature", "kind", "iv", "bins", "top_bin", "top_bin_share", "top_bin_rate",
                                      "lift"])
    out = out.sort_values(["iv", "feature"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ParameterError.invalid("bins", "an integer >= 2", bins)
    return int(bins)


def own_feature_names(family: str, categories: Sequence[str] = ()) -> list[str]:
    """Features that restate a family's own subscriptions: ``vas_fam_<family>_*`` and ``vas_cat_<c>_*``.

    ``categories`` are the content categories of the family's products (their
    ``vas_cat`` features count the family's own orders).
    """
    from workbench.features import FEATURES

    return [f.name for f in FEATURES
            if f.product_family == family or (f.family == "vas_category" and f.content_category in set(categories))]


def uptake_drivers(source, snapshot="2026-10", family: str = "mobile_newspaper", *,
                   features: pd.DataFrame | None = None, status: pd.DataFrame | None = None, window: int = 6,
                   stable_months: int = 3, bins: int = 10, min_bin_share: float = 0.01,
                   exclude: Sequence[str] | None = None, progress: bool = False) -> pd.DataFrame:
    """Rank the features by how well they separate stable subscribers from non-subscribers.

    The sample is the model's: every subscriber on the network at the snapshot
    who is either a stable subscriber of ``family`` (target 1) or not a
    subscriber of it (target 0); subscribers of the family who are not (yet)
    stable are left out.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    snapshot : "YYYY-MM"
    family : str
    features : pandas.DataFrame, optional
        :func:`workbench.features.build_features` output for the snapshot (built
        when not given).
    status : pandas.DataFrame, optional
        :func:`workbench.features.subscriber_status` output (computed when not given).
    window, stable_months : int
        Passed to the feature builder / status when they are computed here.
    bins, min_bin_share
        See :func:`information_value`.
    exclude : sequence of str, optional
        Features left out (default: :func:`own_feature_names` of the family and
        of its products' content categories).
    progress : bool
        Show a tqdm progress bar over the features.

    Returns
    -------
    pandas.DataFrame
        :func:`information_value` output plus ``sample`` rows and ``events``
        columns for reference.
    """
    from workbench.features import build_features, subscriber_status
    from workbench.features._db import check_family, connection

    fam = check_family(family)
    with connection(source) as con:
        if features is None:
            features = build_features(con, snapshot, window)
        if status is None:
            status = subscriber_status(con, fam, snapshot, stable_months)
        if exclude is None:
            cats = [r[0] for r in con.execute(
                f"SELECT DISTINCT content_category FROM vas_products WHERE family = '{fam}' "
                "AND content_category IS NOT NULL").fetchall()]
            exclude = own_feature_names(fam, cats)
    sample, y = model_sample(features, status)
    names = [c for c in sample.columns if c not in set(exclude)]
    out = information_value(sample, y, features=names, bins=bins, min_bin_share=min_bin_share, progress=progress)
    out["sample"] = len(sample)
    out["events"] = int(y.sum())
    return out


def model_sample(features: pd.DataFrame, status: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of ``features`` that are stable subscribers or non-subscribers, and the 0/1 target."""
    for col in ("stable", "nonsubscriber"):
        if col not in status.columns:
            raise ParameterError.invalid("status", "subscriber_status() output with 'stable' and 'nonsubscriber'",
                                         list(status.columns))
    st = status.reindex(features.index)
    keep = (st["stable"].fillna(False) | st["nonsubscriber"].fillna(False)).to_numpy(dtype=bool)
    sample = features.loc[keep]
    return sample, st["stable"].fillna(False).to_numpy(dtype=bool)[keep].astype("int64")
