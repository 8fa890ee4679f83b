"""The feature catalogue: every column of the feature table, its family, type and meaning.

``docs/features.md`` is rendered from :data:`FEATURES` by
:func:`render_feature_doc`; a test checks the committed file equals the
rendering, so the documentation cannot drift from the code.  Regenerate it with::

    python -c "from workbench.features import write_feature_doc; write_feature_doc()"
"""
from __future__ import annotations

from pathlib import Path

from workbench.features import attributes, handset, subscriptions, usage, vas
from workbench.features._feature import DTYPES, FAMILIES, Feature
from workbench.i18n import t

__all__ = ["FEATURES", "FEATURE_INDEX", "Feature", "FAMILIES", "FAMILY_NOTES", "feature_names", "feature",
           "render_feature_doc", "write_feature_doc", "DOC_PATH"]

#: Every feature, in the column order of the feature table (after ``subscriber_id``).
FEATURES: tuple[Feature, ...] = (*attributes.FEATURES, *usage.FEATURES, *vas.FEATURES, *handset.FEATURES)
#: name -> Feature.
FEATURE_INDEX: dict[str, Feature] = {f.name: f for f in FEATURES}
if len(FEATURE_INDEX) != len(FEATURES):  # pragma: no cover - a programming error
    raise RuntimeError("duplicate feature names in the catalogue")

#: How each feature family is defined (rendered into docs/features.md).
FAMILY_NOTES: dict[str, str] = {
    "attributes": (
        "One row per subscriber whose `join_date` is on or before the snapshot month's last day, "
        "with the attributes the `subscribers` table states (the data model keeps no attribute history). "
        "`tenure_months` counts calendar months from the join month to the snapshot month."
    ),
    "usage": (
        "For each measure *m* of `USAGE_MEASURES`, over the `monthly_usage` rows of the window "
        "(a month without a row is not counted as zero): `m_mean` the mean of the monthly values, `m_max` "
        "the largest, `m_last` the snapshot month's value (missing without a row), `m_trend` the "
        "least-squares slope of the monthly value on the month number, in units per month (missing with "
        "fewer than two months). Not a last-vs-mean difference."
    ),
    "content": (
        "Share of each content category in all content items (`content_*` measures) consumed over "
        "the window; missing when nothing was consumed. The shares of a subscriber sum to 1."
    ),
    "vas_family": (
        "From the subscription spells seen at the snapshot month's last day (an unsubscribe after it "
        "leaves the spell open), per product family: `orders` spells started in the window (a repeated "
        "order while subscribed is not counted), `unsubscribes` spells ended in the window, `active` "
        "subscribed at the snapshot month's last day, `months_since_order` calendar months from the latest "
        "spell start (an order at any time before the snapshot) to the snapshot month, missing if never ordered. "
        "A model "
        "of a family must drop that family's own features (`feature_names(exclude_product_family=...)`)."
    ),
    "vas_category": (
        "The same four measures as `vas_family`, per content category of the products "
        "(products without a content category count in no category)."
    ),
    "handset": (
        "The handset at the snapshot is the latest `handset_events` row dated on or before the snapshot "
        "month's last day; a subscriber's first row is the first handset seen and every later row is a "
        "change. Without any row `handset_known` is false, the flags are false, the price band and "
        "`handset_months_since_change` are missing. `handset_changed_1m` / `_2m`: a change dated in the "
        "snapshot month / in it or the month before."
    ),
}

#: Where the rendered catalogue lives in the repository.
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def feature(name: str) -> Feature:
    """The catalogue entry of feature ``name`` (KeyError naming the known families otherwise)."""
    try:
        return FEATURE_INDEX[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a feature of the catalogue; families are {list(FAMILIES)} "
                       "(see docs/features.md)") from None


def feature_names(family: str | None = None, *, dtype: str | None = None,
                  exclude_product_family: str | None = None) -> list[str]:
    """Feature names, optionally of one feature ``family`` / ``dtype``, without one product family's own.

    Parameters
    ----------
    family : str, optional
        One of :data:`FAMILIES`.
    dtype : str, optional
        ``"int"``, ``"float"``, ``"bool"`` or ``"category"``.
    exclude_product_family : str, optional
        Drop the ``vas_fam_<family>_*`` features (a model predicting uptake of
        that family must not see them).
    """
    from workbench.errors import ParameterError

    if family is not None and family not in FAMILIES:
        raise ParameterError.invalid("family", f"one of {list(FAMILIES)}", family)
    if dtype is not None and dtype not in DTYPES:
        raise ParameterError.invalid("dtype", f"one of {list(DTYPES)}", dtype)
    return [f.name for f in FEATURES
            if (family is None or f.family == family) and (dtype is None or f.dtype == dtype)
            and (exclude_product_family is None or f.product_family != exclude_product_family)]


def render_feature_doc() -> str:
    """The Markdown of ``docs/features.md``, rendered from the catalogue."""
    lines = [
        "# Feature catalogue",
        "",
        "<!-- Rendered from workbench/features/catalogue.py by render_feature_doc(); do not edit by hand. -->",
        "",
        "`workbench.features.build_features(source, snapshot, window)` returns one row per subscriber",
        "who joined on or before the snapshot month's last day, keyed by `subscriber_id`. Only data",
        "dated on or before that day is read. The *window* is the `window` calendar months ending with",
        "the snapshot month (default 6).",
        "",
        "Types: `int` (pandas `int64`, never missing), `float` (`float64`, NaN when missing),",
        "`bool` (`bool`, never missing), `category` (pandas `category`: the known values of the data",
        "model first, then any other value seen, sorted; NaN when unknown). In the Parquet file written",
        "with `out=` categories are plain strings; `read_features(path)` restores the dtypes.",
        "",
        f"{len(FEATURES)} features.",
        "",
    ]
    for fam in FAMILIES:
        members = [f for f in FEATURES if f.family == fam]
        lines += [f"## {t('features.family.' + fam, lang='en')} / {t('features.family.' + fam, lang='zh')}",
                  "", f"`{fam}`: {len(members)} features. {FAMILY_NOTES[fam]}", "",
                  "| name | type | meaning | 含义 |", "|---|---|---|---|"]
        lines += [f"| `{f.name}` | {f.dtype} | {f.meaning} | {f.meaning_zh} |" for f in members]
        lines.append("")
    lines += ["## Subscription spells and stable subscribers / 订购期与稳定用户", "",
              "Defined in `workbench/features/subscriptions.py` and shared by the VAS features, the status",
              "analysis and the model's sample:", "",
              _rst_to_md(subscriptions.__doc__.split("\n\n", 1)[1]), ""]
    return "\n".join(lines)


def _rst_to_md(text: str) -> str:
    return text.strip().replace("``", "`")


def write_feature_doc(path: str | Path | None = None) -> Path:
    """Write :func:`render_feature_doc` to ``path`` (default: the repository's ``docs/features.md``)."""
    target = Path(path) if path is not None else DOC_PATH
    target.write_text(render_feature_doc(), encoding="utf-8")
    return target
