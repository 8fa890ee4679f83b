"""The province model's inputs at one snapshot month, and their display names.

What :class:`~workbench.models.province.ProvincePipeline` and
:func:`~workbench.models.province.score_province` feed the model:

* :func:`input_columns` - the catalogue features minus those that record the
  subscription itself (:func:`workbench.models.sample.excluded_features`), the
  :data:`DERIVED` columns (the monthly bill without VAS spend) and the smoothed
  content preferences (``content_pref_<category>``, ``content_pref_edition_top``);
* :func:`model_frame` - those columns built from a feature table and preferences;
* :func:`align_to_horizon` - potential customers as they will look ``months`` on;
* :func:`build_snapshot` - all of it at one snapshot month (:class:`SnapshotData`),
  reading only data dated on or before that month's last day.

:func:`feature_labels` and :func:`value_labels` name the inputs and their levels
in the current language; the reason codes of :func:`~workbench.models.province.score_base`
use them, and so do the template's tables (:mod:`workbench.report.t03`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from workbench.errors import DataValidationError
from workbench.features import FEATURE_INDEX, build_features, subscriber_status
from workbench.features._db import check_family, check_positive_int, parse_month
from workbench.i18n import get_language, t
from workbench.models.preference import (
    PREFERENCE_PREFIX, PreferenceModel, counts_from_features, edition_catalogue, preference_features,
    subscriber_groups,
)
from workbench.models.sample import (
    DEFAULT_STABLE_MONTHS, ModelSample, family_categories, model_columns, sample_from_status,
)

__all__ = [
    "DEFAULT_WINDOW",
    "columns_frame",
    "DERIVED",
    "CLOCK_FEATURES",
    "RECENT_FLAGS",
    "SnapshotData",
    "feature_labels",
    "value_labels",
    "input_columns",
    "model_frame",
    "align_to_horizon",
    "build_snapshot",
]

#: Months of history the features read (ending with the snapshot month).
DEFAULT_WINDOW = 6


# ------------------------------------------------------------------ labels
def feature_labels(lang: str | None = None):
    """A callable giving the display name of a model input in ``lang`` (default: the current language).

    Catalogue features use their meaning (:data:`workbench.features.FEATURES`),
    preference columns the ``preference.feature.*`` labels.
    """
    def label(name: str) -> str:
        language = lang or get_language()
        f = FEATURE_INDEX.get(name)
        if f is not None:
            return f.meaning_zh if language == "zh" else f.meaning
        if name in DERIVED:
            return t(f"t03.feature.{name}", language)
        if name.startswith(PREFERENCE_PREFIX):
            rest = name[len(PREFERENCE_PREFIX):]
            if rest == "edition_top":
                return t("preference.feature.edition_top", language)
            return t("preference.feature.category", language, category=t(f"category.{rest}", language))
        return name

    return label


def value_labels(lang: str | None = None):
    """A callable giving the display text of a category level (branch names; else the catalogue's)."""
    from workbench.data.tables import BRANCHES

    names = {b: (zh, en) for b, zh, en in BRANCHES}

    def label(feature: str, level: str):
        if feature == "branch_id" and level in names:
            zh, en = names[level]
            return zh if (lang or get_language()) == "zh" else en
        return None

    return label


# ------------------------------------------------------------------ what one snapshot holds
@dataclass
class SnapshotData:
    """Everything the pipeline builds at one snapshot month.

    Attributes
    ----------
    snapshot : str
        ``YYYY-MM``.
    status : DataFrame
        :func:`workbench.features.subscriber_status` of the family.
    sample : ModelSample
        The model sample.
    frame : DataFrame
        Model inputs of every subscriber on the network, indexed by ``subscriber_id``.
    preferences : DataFrame
        Smoothed content preferences of every subscriber.
    preference_model : PreferenceModel
        Fitted on the snapshot's window.
    seconds : float
        Time taken to build it.
    """

    snapshot: str
    status: pd.DataFrame
    sample: ModelSample
    frame: pd.DataFrame
    preferences: pd.DataFrame
    preference_model: PreferenceModel
    seconds: float = 0.0




# ------------------------------------------------------------------ inputs at one snapshot
#: Derived inputs: name -> (minuend, subtrahend) of the feature table.  The monthly bill without any VAS
#: spend keeps what ARPU says about spending power once the product's own fee (and all VAS) is taken out.
DERIVED: dict[str, tuple[str, str]] = {
    "bill_excl_vas_mean": ("arpu_mean", "vas_spend_mean"),
    "bill_excl_vas_last": ("arpu_last", "vas_spend_last"),
}
#: Clock-like inputs moved forward by :func:`align_to_horizon` (months added), and flags of a change
#: "in the last month(s)" that are false by then.
CLOCK_FEATURES: tuple[str, ...] = ("tenure_months", "handset_months_since_change")
RECENT_FLAGS: tuple[str, ...] = ("handset_changed_1m", "handset_changed_2m")


def input_columns(product: str, categories, use_preference: bool = True) -> list[str]:
    """The model's input columns: catalogue features minus :func:`~workbench.models.sample.excluded_features`,
    the :data:`DERIVED` columns, then (``use_preference``) ``content_pref_<category>`` for every content
    category and ``content_pref_edition_top``."""
    from workbench.data.tables import CONTENT_CATEGORIES

    extra = list(DERIVED)
    if use_preference:
        extra += [f"{PREFERENCE_PREFIX}{c}" for c in CONTENT_CATEGORIES] + [f"{PREFERENCE_PREFIX}edition_top"]
    return model_columns(product, categories, extra=extra)


def model_frame(features: pd.DataFrame, columns: list[str], preferences: pd.DataFrame | None = None,
                editions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model's input frame from a feature table (and preferences): ``columns`` in order.

    Catalogue columns are taken as they are, :data:`DERIVED` columns computed,
    preference columns from :func:`~workbench.models.preference.preference_features`.
    """
    data = {c: features[c] for c in columns if c in features.columns}
    data.update({name: features[a] - features[b] for name, (a, b) in DERIVED.items() if name in columns})
    if preferences is not None and any(c.startswith(PREFERENCE_PREFIX) for c in columns):
        prefs = preference_features(preferences, editions).reindex(features.index)
        data.update({c: prefs[c] for c in prefs.columns if c in columns})
    missing = [c for c in columns if c not in data]
    if missing:
        raise DataValidationError(f"the model's inputs {missing} cannot be built from the feature table "
                                  f"(and preferences) given")
    return columns_frame({c: data[c] for c in columns}, features.index)


def columns_frame(columns: dict[str, pd.Series], index: pd.Index) -> pd.DataFrame:
    """``pd.DataFrame(columns, index=index)`` that keeps each column in its own block.

    ``pd.DataFrame(dict)`` stacks the columns of one dtype into a 2-D block - a copy of
    every value, ~1.5 s for the model's million rows by 115 inputs - and taking rows out of
    a stacked block is slower too; ``pd.concat(axis=1)`` keeps the columns as they are.
    Series on another index are aligned to ``index``, as the constructor does.
    """
    if not columns:
        return pd.DataFrame(index=index)
    aligned = [s if s.index.equals(index) else s.reindex(index) for s in columns.values()]
    out = pd.concat(aligned, axis=1, keys=list(columns))
    out.index = index
    return out


def align_to_horizon(frame: pd.DataFrame, months: int) -> pd.DataFrame:
    """Potential customers as they will look ``months`` months on (the look-alike's scoring frame).

    A stable subscriber has, by definition, held the product for ``stable_months``
    month ends since ordering; a potential customer who orders now can be a stable
    subscriber only that many months later.  So that the comparison is made at
    the same point, the clock-like inputs (:data:`CLOCK_FEATURES`, and the
    ``*_months_since_order`` of other products) are moved ``months`` forward and
    the "changed in the last month(s)" flags (:data:`RECENT_FLAGS`) are false;
    behaviour is left as observed.  Without this a look-alike systematically
    under-scores people who only just became able to subscribe (recent joiners,
    recent handset upgrades) - the very people a campaign can reach first.
    """
    months = check_positive_int(months, "months", minimum=0)
    if months == 0:
        return frame.copy(deep=False)     # copy-on-write: a new frame, no copy of a million rows' values
    moved = {c: frame[c] + months for c in frame.columns if c in CLOCK_FEATURES or c.endswith("_months_since_order")}
    moved.update({c: pd.Series(False, index=frame.index) for c in RECENT_FLAGS if c in frame.columns})
    # the other columns are not copied (copy-on-write), nor stacked into 2-D blocks (columns_frame)
    return columns_frame({c: moved.get(c, frame[c]) for c in frame.columns}, frame.index)


def build_snapshot(source, product: str = "mobile_newspaper", snapshot="2026-10",
                   stable_months: int = DEFAULT_STABLE_MONTHS, *, window: int = DEFAULT_WINDOW, categories=None,
                   editions: pd.DataFrame | None = None, use_preference: bool = True, preference_strength="auto",
                   preference_prior: str = "province", random_state: int = 0) -> SnapshotData:
    """The model's inputs and sample at one snapshot month.

    Reads only data dated on or before the snapshot month's last day: the
    feature table (:func:`workbench.features.build_features` over ``window``
    months), the family status and model sample, and the preference model
    fitted on the same window's content counts.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
    product, snapshot, stable_months, window
        As for :class:`ProvincePipeline`.
    categories : sequence of str, optional
        Content categories of the family's products (default from ``vas_products``).
    editions : DataFrame, optional
        The family's editions (default from ``vas_products``).
    use_preference, preference_strength, preference_prior, random_state
        As for :class:`ProvincePipeline`.

    Returns
    -------
    SnapshotData

    Raises
    ------
    DataValidationError
        No stable subscriber at the snapshot (nothing to learn from).
    """
    from workbench.data.tables import CONTENT_CATEGORIES
    from workbench.features._db import connection

    fam = check_family(product, "product")
    snap = f"{parse_month(snapshot):%Y-%m}"
    t0 = time.perf_counter()
    with connection(source) as con:
        cats = family_categories(con, fam) if categories is None else tuple(categories)
        eds = edition_catalogue(con, fam) if editions is None else editions
        feats = build_features(con, snap, window)
        status = subscriber_status(con, fam, snap, stable_months, base=feats.index)
        groups = subscriber_groups(con) if preference_prior == "branch" else None
    sample = sample_from_status(status, product=fam, snapshot=snap, stable_months=stable_months)
    if sample.composition.stable == 0:
        raise DataValidationError(
            f"there is no stable subscriber of {fam!r} at {snap} ({stable_months} month ends): "
            "the look-alike model has nothing to learn from; choose another snapshot or fewer stable_months")
    counts = counts_from_features(feats, list(CONTENT_CATEGORIES))
    pm = PreferenceModel(strength=preference_strength, prior=preference_prior,
                         random_state=random_state).fit(counts, groups)
    prefs = pm.transform(counts, groups)
    columns = input_columns(fam, cats, use_preference)
    frame = model_frame(feats, columns, prefs, eds)
    del feats
    return SnapshotData(snapshot=snap, status=status, sample=sample, frame=frame, preferences=prefs,
                        preference_model=pm, seconds=time.perf_counter() - t0)
