"""Potential: how many non-subscribers resemble the current stable subscribers.

A transparent look-alike score: the top drivers (by information value) are
binned as in :mod:`workbench.status.drivers`, and a subscriber's score is the
sum of the weights of evidence of the bins they fall in (naive Bayes: the log
likelihood ratio of stable subscriber vs non-subscriber, features treated as
independent).  Subscribers are cut into score **bands** (quantiles of the
sample's scores; band 1 has the highest scores).  For each band:

``density``          stable subscribers / (stable + non-subscribers);
``density_ratio``    that density over the sample's average density;
``high_potential``   ``density_ratio >= k``;
``conversion_rate``  the observed rate at which subscribers who were not
                     subscribers ``horizon`` months before the snapshot became
                     stable subscribers by the snapshot (or a given rate);
``expected_new_stable``  non-subscribers x conversion rate: the stable
                     subscribers the band would add over a like period.

:func:`potential_funnel` sums the bands into base -> non-subscribers ->
look-alikes (non-subscribers in high-potential bands) -> expected new stable
subscribers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.status.drivers import Binning, fit_binning, model_sample, uptake_drivers, woe_table

__all__ = ["Lookalike", "fit_lookalike", "potential", "potential_funnel", "FUNNEL_STAGES"]

#: Stages of :func:`potential_funnel`, in order.
FUNNEL_STAGES: tuple[str, ...] = ("base", "nonsubscribers", "lookalikes", "expected_new_stable")


@dataclass(frozen=True)
class Lookalike:
    """A fitted naive-Bayes look-alike score: per driver, a binning and the weight of evidence of each bin."""

    binnings: tuple[Binning, ...]
    woe: tuple[np.ndarray, ...]

    @property
    def drivers(self) -> list[str]:
        return [b.feature for b in self.binnings]

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """The score of every row of ``frame`` (bins not seen when fitting weigh 0)."""
        missing = [d for d in self.drivers if d not in frame.columns]
        if missing:
            raise ParameterError.invalid("frame", f"a frame with the driver columns {self.drivers}",
                                         f"missing {missing}")
        total = np.zeros(len(frame), dtype="float64")
        for b, w in zip(self.binnings, self.woe):
            total += w[b.codes(frame[b.feature])]
        return pd.Series(total, index=frame.index, name="score")


def fit_lookalike(sample: pd.DataFrame, target, drivers: Sequence[str], *, bins: int = 5,
                  smoothing: float = 0.5) -> Lookalike:
    """Fit :class:`Lookalike` on a sample (target 1 = stable subscriber, 0 = non-subscriber).

    Parameters
    ----------
    sample : pandas.DataFrame
    target : array-like of 0/1 or bool
    drivers : sequence of str
        Columns of ``sample`` to score on.
    bins : int
        Quantile bins of numeric drivers.
    smoothing : float
        Added to every bin's counts (see :func:`workbench.status.woe_table`).
    """
    if not drivers:
        raise ParameterError.invalid("drivers", "at least one feature", list(drivers))
    binnings, woes = [], []
    for d in drivers:
        if d not in sample.columns:
            raise ParameterError.invalid("drivers", "columns of the sample", d)
        b = fit_binning(sample[d], bins, d)
        w = woe_table(sample[d], target, binning=b, smoothing=smoothing)
        arr = np.zeros(len(b.labels), dtype="float64")
        arr[w["bin"].to_numpy()] = w["woe"].to_numpy()
        binnings.append(b)
        woes.append(arr)
    return Lookalike(tuple(binnings), tuple(woes))


def potential(source, snapshot="2026-10", family: str = "mobile_newspaper", *,
              features: pd.DataFrame | None = None, status: pd.DataFrame | None = None,
              drivers: pd.DataFrame | Sequence[str] | None = None, top: int = 8, bins: int = 5, bands: int = 10,
              k: float = 2.0, stable_months: int = 3, horizon: int | None = None,
              conversion_rate: float | None = None, window: int = 6, smoothing: float = 0.5) -> pd.DataFrame:
    """Score bands of the subscriber base by resemblance to stable subscribers, with their potential.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    snapshot : "YYYY-MM"
    family : str
    features : pandas.DataFrame, optional
        :func:`workbench.features.build_features` output (built when not given).
    status : pandas.DataFrame, optional
        :func:`workbench.features.subscriber_status` output with ``horizon``
        (``active_before``) unless ``conversion_rate`` is given.
    drivers : DataFrame or sequence of str, optional
        :func:`workbench.status.uptake_drivers` output (its first ``top`` rows are
        used) or the driver names (default: computed).
    top : int
        Drivers the score uses.
    bins : int
        Quantile bins of each numeric driver.
    bands : int
        Score bands (quantiles of the sample's scores).
    k : float
        A band is high-potential when its density is at least ``k`` x the average.
    stable_months : int
        Definition of a stable subscriber.
    horizon : int, optional
        Months back for the observed conversion (default ``stable_months + 3``;
        at least ``stable_months``, or nobody could have become stable since).
    conversion_rate : float, optional
        Use this rate for every band instead of the observed one.
    window : int
        Feature window when features are built here.
    smoothing : float
        See :func:`workbench.status.woe_table`.

    Returns
    -------
    pandas.DataFrame
        One row per band (1 = most similar): ``band, score_min, score_max,
        subscribers, stable, nonsubscribers, density, density_ratio,
        high_potential, at_risk, converted, conversion_rate,
        expected_new_stable``.  ``drivers`` used are in ``.attrs["drivers"]``.
    """
    from workbench.features import build_features, subscriber_status
    from workbench.features._db import check_family, check_positive_int, connection

    fam = check_family(family)
    months = check_positive_int(stable_months, "stable_months")
    top = check_positive_int(top, "top")
    bands = check_positive_int(bands, "bands", minimum=2)
    if not (isinstance(k, (int, float)) and k > 0):
        raise ParameterError.invalid("k", "a positive number", k)
    if conversion_rate is not None and not 0 <= conversion_rate <= 1:
        raise ParameterError.invalid("conversion_rate", "a rate in [0, 1]", conversion_rate)
    if horizon is None:
        horizon = months + 3
    horizon = check_positive_int(horizon, "horizon")
    if conversion_rate is None and horizon < months:
        raise ParameterError.invalid("horizon", f"at least stable_months ({months}) months", horizon)
    with connection(source) as con:
        if features is None:
            features = build_features(con, snapshot, window)
        if status is None:
            status = subscriber_status(con, fam, snapshot, months,
                                       horizon=None if conversion_rate is not None else horizon)
        if drivers is None:
            drivers = uptake_drivers(con, snapshot, fam, features=features, status=status, bins=bins)
    names = list(drivers["feature"].head(top)) if isinstance(drivers, pd.DataFrame) else list(drivers)[:top]
    if conversion_rate is None and "active_before" not in status.columns:
        raise ParameterError.invalid("status", "subscriber_status(..., horizon=...) output with 'active_before' "
                                     "(or pass conversion_rate)", list(status.columns))
    sample, y = model_sample(features, status)
    if y.sum() == 0 or y.sum() == len(y):
        raise ParameterError.invalid("status", "a base with both stable subscribers and non-subscribers",
                                     f"{int(y.sum())} stable subscribers in a sample of {len(y)}")
    model = fit_lookalike(sample, y, names, bins=bins, smoothing=smoothing)
    score = model.score(features)
    cut = fit_binning(score.loc[sample.index], bands, "score")
    code = cut.codes(score)
    n_bands = len(cut.labels) - 1
    band = n_bands - code  # 1 = highest scores
    st = status.reindex(features.index)
    stable = st["stable"].fillna(False).to_numpy(dtype=bool)
    nonsub = st["nonsubscriber"].fillna(False).to_numpy(dtype=bool)
    frame = pd.DataFrame({"band": band, "score": score.to_numpy(), "stable": stable, "nonsubscribers": nonsub})
    if conversion_rate is None:
        before = st["active_before"].fillna(False).to_numpy(dtype=bool)
        frame["at_risk"] = ~before
        frame["converted"] = stable & ~before
    else:
        frame["at_risk"] = False
        frame["converted"] = False
    out = frame.groupby("band", sort=True).agg(
        score_min=("score", "min"), score_max=("score", "max"), subscribers=("score", "size"),
        stable=("stable", "sum"), nonsubscribers=("nonsubscribers", "sum"), at_risk=("at_risk", "sum"),
        converted=("converted", "sum")).reset_index()
    for c in ("subscribers", "stable", "nonsubscribers", "at_risk", "converted"):
        out[c] = out[c].astype("int64")
    in_sample = out["stable"] + out["nonsubscribers"]
    out["density"] = out["stable"] / in_sample.where(in_sample > 0)
    out["density_ratio"] = out["density"] / float(y.mean())
    out["high_potential"] = (out["density_ratio"] >= k).to_numpy(dtype=bool)
    if conversion_rate is None:
        out["conversion_rate"] = out["converted"] / out["at_risk"].where(out["at_risk"] > 0)
    else:
        out["conversion_rate"] = float(conversion_rate)
    out["expected_new_stable"] = out["nonsubscribers"] * out["conversion_rate"].fillna(0.0)
    out = out[["band", "score_min", "score_max", "subscribers", "stable", "nonsubscribers", "density",
               "density_ratio", "high_potential", "at_risk", "converted", "conversion_rate", "expected_new_stable"]]
    out.attrs["drivers"] = model.drivers
    return out


def potential_funnel(bands: pd.DataFrame) -> pd.DataFrame:
    """Base -> non-subscribers -> look-alikes -> expected new stable subscribers.

    Parameters
    ----------
    bands : pandas.DataFrame
        :func:`potential` output.

    Returns
    -------
    pandas.DataFrame
        ``stage`` (:data:`FUNNEL_STAGES`) and ``count``; ``share`` is the count
        over the base.
    """
    need = {"subscribers", "nonsubscribers", "high_potential", "expected_new_stable"}
    if not need <= set(bands.columns):
        raise ParameterError.invalid("bands", f"potential() output with columns {sorted(need)}", list(bands.columns))
    high = bands["high_potential"].astype(bool)
    counts = [float(bands["subscribers"].sum()), float(bands["nonsubscribers"].sum()),
              float(bands.loc[high, "nonsubscribers"].sum()), float(bands.loc[high, "expected_new_stable"].sum())]
    out = pd.DataFrame({"stage": list(FUNNEL_STAGES), "count": counts})
    out["share"] = out["count"] / counts[0] if counts[0] else np.nan
    return out
