"""Codes as names: what a report shows for a code of the data (a branch, a channel, a brand, ...).

Every report module words codes through these, so that a branch code ``aksu`` is shown as its name and a
channel ``outbound_call`` as the catalogue's word for it, in the report's language.

Examples
--------
>>> branch_name("aksu", "en")
'Aksu'
>>> label("channel", "sms", "en")
'SMS'
>>> label("channel", "carrier_pigeon", "en")
'carrier_pigeon'
"""
from __future__ import annotations

__all__ = ["label", "branch_name", "feature_name", "edition_name"]


def label(prefix: str, value, lang: str | None = None) -> str:
    """The catalogue's name of ``value`` under ``prefix`` (label ``<prefix>.<value>``), else ``value`` as text.

    Parameters
    ----------
    prefix : str
        The catalogue's group of names, e.g. ``"channel"``, ``"brand"``, ``"family"``.
    value
        The code.
    lang : {"zh", "en"}, optional
        Default: the current language.
    """
    from workbench.i18n import catalogue, get_language

    entry = catalogue().get(f"{prefix}.{value}")
    return entry[lang or get_language()] if entry else str(value)


def branch_name(code, lang: str | None = None) -> str:
    """The name of a branch (:data:`workbench.data.tables.BRANCHES`), else the code as text.

    Parameters
    ----------
    code : str
        The branch code, e.g. ``"aksu"``.
    lang : {"zh", "en"}, optional
        Default: the current language.
    """
    from workbench.data.tables import BRANCHES
    from workbench.i18n import get_language

    lang = lang or get_language()
    names = {b[0]: (b[1] if lang == "zh" else b[2]) for b in BRANCHES}
    return names.get(code, str(code))


def feature_name(name: str, lang: str | None = None) -> str:
    """What a model input or feature means (the feature catalogue, the preference and derived inputs' labels).

    Examples
    --------
    >>> feature_name("content_pref_edition_top", "en")
    'Preference for the best-fitting edition'
    """
    from workbench.i18n import t
    from workbench.models.province_inputs import feature_labels

    if name == "score":     # the look-alike score, a covariate of the evaluation
        return t("campaign.list.col.score", lang=lang)
    return feature_labels(lang)(str(name))


def edition_name(code, lang: str | None = None) -> str:
    """The name of a mobile-newspaper edition (a content category): ``"sports"`` -> ``'体育'``; several codes
    joined by ``/`` are each named."""
    if not isinstance(code, str):
        return str(code)
    return "/".join(label("category", part, lang) for part in code.split("/"))
