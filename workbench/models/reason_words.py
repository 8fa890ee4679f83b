"""Reasons in words a caller can say: one phrase per feature family, from the label catalogue.

A reason code (:class:`Reason`) is the structured form the model's explanation gives
(:func:`workbench.models.explain.reason_codes`): the feature, its value (a number,
rounded to what a person says, or a category level; ``None`` when missing) and,
for a number, its position among the scored population as a band of
:data:`~workbench.models.explain.REASON_BANDS` (``"top5"``: among the 5 % highest,
``"bottom50"``).  :func:`say` words it in Chinese or English with the phrase of
the feature's family (``labels/reasons.yaml``), e.g.

==========================  =================================================
feature                     zh
==========================  =================================================
``tenure_months`` 8         入网 8 个月
``gprs_mb_mean`` 812 top5   月均流量 812 MB，高于全省 95% 的用户
``content_pref_sports``     常看体育内容
``vas_fam_fetion_active``   正在使用飞信
``branch_id`` hami          哈密的用户
==========================  =================================================

Families: tenure, age, brand / tariff / gender / branch, monthly measures
(``<measure>_mean|max|last|trend`` with their units: MB, 元, 分钟, 次 ...),
months with usage, content shares and preferences, VAS orders / cancellations /
use / months since an order (per product family or content category), handset
flags, price band and changes.  Any other feature (a model of another table) is
said plainly from its display name: ``<name>: <value>``, with its position.
No phrase names a column or a "window"; the window's length is said in months.

:meth:`Reason.code` is a JSON text kept next to the words (``reason_<i>_code`` of
template 03's scores), so the words can be made again in the other language
(:mod:`workbench.ops.reasons`) without reading the words back.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from workbench.data.tables import BRANCHES, CONTENT_CATEGORIES, PRODUCT_FAMILIES, USAGE_MEASURES
from workbench.i18n import catalogue, get_language, t

__all__ = ["Reason", "say", "say_number", "spoken_value", "DEFAULT_WINDOW_MONTHS"]

#: Months of history the features read, as said in phrases such as "in the last 6 months".
DEFAULT_WINDOW_MONTHS = 6
_STATS = ("mean", "max", "last", "trend")
_MEASURES = (*USAGE_MEASURES, "bill_excl_vas")
_VAS = re.compile(r"^vas_(fam|cat)_(.+)_(orders|unsubscribes|active|months_since_order)$")
_HANDSET_FLAGS = {"handset_cap_wap": "wap", "handset_cap_mms": "mms", "handset_cap_java": "java",
                  "handset_cap_mp3": "mp3", "handset_smartphone": "smartphone", "handset_known": "known",
                  "handset_changed_1m": "changed_1m", "handset_changed_2m": "changed_2m"}
_BRANCH_NAMES = {b: {"zh": zh, "en": en} for b, zh, en in BRANCHES}
_BAND = re.compile(r"^(top|bottom)(\d+)$")


@dataclass(frozen=True)
class Reason:
    """One reason code: a feature, its value and (for a number) its position band.

    Parameters
    ----------
    feature : str
        The model input's name.
    value : float, str or None
        The row's value: a number (already rounded by :func:`spoken_value`), a category
        level, or None when missing.  Flags are 1.0 / 0.0.
    band : str, optional
        ``"top<B>"`` or ``"bottom<B>"`` with ``B`` a percent band; None when the value is
        a level, a flag, or shared by most of the population.
    """

    feature: str
    value: float | str | None = None
    band: str | None = None

    def code(self) -> str:
        """The reason as a compact JSON text (``{"feature", "value", "band"}``)."""
        return json.dumps({"feature": self.feature, "value": self.value, "band": self.band},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_code(cls, text: str) -> Reason:
        """The reason of a :meth:`code` text.

        Raises
        ------
        ValueError
            The text is not a reason code.
        """
        try:
            d = json.loads(text)
            return cls(str(d["feature"]), d.get("value"), d.get("band"))
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"not a reason code (a JSON object with 'feature', 'value', 'band'): {text!r}") from err


def spoken_value(value: float) -> float:
    """A number rounded as a person says it: whole from 10 up, one decimal below."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    return float(round(value)) if abs(value) >= 10 else round(float(value), 1)


def say_number(value: float) -> str:
    """``812``, ``1,234``, ``3.5``, ``0`` - the number as a caller reads it out."""
    v = spoken_value(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return str(int(v))
    return f"{v:.1f}"


def _mid(text: str, lang: str, *, common: bool = False) -> str:
    """A name used inside an English sentence: "Mobile newspaper" -> "mobile newspaper"; a one-word name
    stays as it is ("Fetion") unless ``common`` (a common noun: "Sports" -> "sports"); "WAP portal" stays."""
    if (lang == "en" and len(text) > 1 and text[0].isupper() and text[1].islower()
            and (common or " " in text)):
        return text[0].lower() + text[1:]
    return text


def _position(band: str | None, lang: str, scope: str) -> str | None:
    m = _BAND.match(band or "")
    if not m:
        return None
    side, pct = m.group(1), int(m.group(2))
    return t(f"reasons.{'above' if side == 'top' else 'below'}.{scope}", lang, pct=100 - pct)


def _with_position(phrase: str, band, lang: str, scope: str) -> str:
    position = _position(band, lang, scope)
    return phrase if position is None else t("reasons.with_position", lang, phrase=phrase, position=position)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _yes(value) -> bool:
    return value not in (0, 0.0, False, "0", "False", "false", "no")


def _category(cat: str, lang: str) -> str:
    return _mid(t(f"category.{cat}", lang), lang, common=True)


def _measure(name: str):
    base, _, stat = name.rpartition("_")
    if stat not in _STATS:
        return None
    if base in _MEASURES and not base.startswith("content_"):
        return base, stat, base
    if base.startswith("content_") and base[len("content_"):] in CONTENT_CATEGORIES:
        return base, stat, "content"
    return None


def _say_measure(base: str, stat: str, kind: str, value, band, lang: str, scope: str) -> str:
    what = (t("reasons.measure.content", lang, category=_category(base[len("content_"):], lang)) if kind == "content"
            else t(f"reasons.measure.{kind}", lang))
    if kind == "content" and lang == "en":
        what = what[0].upper() + what[1:]
    unit = t(f"reasons.unit.{kind}", lang)
    if _is_missing(value):
        return t("reasons.no_record", lang, what=_mid(what, lang))
    if stat == "trend":
        if spoken_value(value) == 0:
            return t("reasons.stat.trend_flat", lang, what=what)
        key = "reasons.stat.trend_up" if value > 0 else "reasons.stat.trend_down"
        return t(key, lang, what=what, value=say_number(abs(value)), unit=unit)
    return _with_position(t(f"reasons.stat.{stat}", lang, what=what, value=say_number(value), unit=unit),
                          band, lang, scope)


def _say_vas(kind: str, target: str, stat: str, value, lang: str, window: int) -> str | None:
    if kind == "fam":
        if target not in PRODUCT_FAMILIES:
            return None
        product = _mid(t(f"family.{target}", lang), lang)
    else:
        if target not in CONTENT_CATEGORIES:
            return None
        product = t("reasons.product.category", lang, category=t(f"category.{target}", lang))
        product = _mid(product, lang, common=True)
    if stat == "active":
        if _is_missing(value):
            return t("reasons.unknown", lang, what=product)
        return t(f"reasons.vas.active.{'yes' if _yes(value) else 'no'}", lang, product=product)
    if stat == "months_since_order":
        if _is_missing(value):
            return t("reasons.vas.never_ordered", lang, product=product)
        if value < 1:
            return t("reasons.vas.since_order_recent", lang, product=product)
        return t("reasons.vas.since_order", lang, product=product, value=say_number(value))
    if _is_missing(value) or value == 0:
        return t(f"reasons.vas.{stat}_none", lang, product=product, months=window)
    return t(f"reasons.vas.{stat}", lang, product=product, value=say_number(value), months=window)


def _level(feature: str, level: str, lang: str, value_labels) -> str:
    if value_labels is not None:
        from workbench.models.rules import value_label

        return value_label(feature, level, value_labels, lang)
    key = f"{feature}.{level}"
    return t(key, lang) if key in catalogue() else level


def _say_catalogue(reason: Reason, lang: str, scope: str, window: int, value_labels) -> str | None:
    """The family phrase of a feature of the workbench's catalogue, or None for any other feature."""
    name, value, band = reason.feature, reason.value, reason.band
    missing = _is_missing(value)
    if name == "tenure_months":
        return t("reasons.unknown", lang, what=t("reasons.what.tenure", lang)) if missing else (
            t("reasons.tenure_new", lang) if value < 1 else t("reasons.tenure", lang, value=say_number(value)))
    if name == "age":
        return (t("reasons.unknown", lang, what=t("reasons.what.age", lang)) if missing
                else t("reasons.age", lang, value=say_number(value)))
    if name in ("brand", "tariff_plan", "gender", "branch_id", "handset_price_band"):
        what = {"brand": "brand", "tariff_plan": "tariff_plan", "gender": "gender", "branch_id": "branch",
                "handset_price_band": "handset_price"}[name]
        if missing:
            return t("reasons.unknown", lang, what=t(f"reasons.what.{what}", lang))
        level = str(value)
        if name == "gender" and f"reasons.gender.{level}" in catalogue():
            return t(f"reasons.gender.{level}", lang)
        if name == "branch_id":
            return t("reasons.branch", lang, value=_BRANCH_NAMES.get(level, {}).get(lang, level))
        if name == "handset_price_band":
            key = f"reasons.handset.price.{level}"
            return t("reasons.handset.price_band", lang, value=t(key, lang) if key in catalogue() else level)
        if name == "brand":
            return t("reasons.brand", lang, value=_level("brand", level, lang, value_labels))
        return t(f"reasons.{name}", lang, value=level)
    unknown = {"is_capital": "capital", "rejoined": "history", "handset_changes_window": "handset",
               "usage_months": "usage", **{f: "handset" for f in _HANDSET_FLAGS}}
    if missing and name in unknown:
        return t("reasons.unknown", lang, what=t(f"reasons.what.{unknown[name]}", lang))
    if name in ("is_capital", "rejoined"):
        return t(f"reasons.{name}.{'yes' if _yes(value) else 'no'}", lang)
    if name in _HANDSET_FLAGS:
        return t(f"reasons.handset.{_HANDSET_FLAGS[name]}.{'yes' if _yes(value) else 'no'}", lang)
    if name == "handset_months_since_change":
        if missing:
            return t("reasons.handset.never_changed", lang)
        return (t("reasons.handset.since_change_recent", lang) if value < 1
                else t("reasons.handset.since_change", lang, value=say_number(value)))
    if name == "handset_changes_window":
        return t("reasons.handset.changes", lang, value=say_number(value), months=window)
    if name == "usage_months":
        return t("reasons.usage_months", lang, value=say_number(value), months=window)
    measure = _measure(name)
    if measure is not None:
        return _say_measure(*measure, value, band, lang, scope)
    if name.startswith("content_share_") and name[len("content_share_"):] in CONTENT_CATEGORIES:
        category = _category(name[len("content_share_"):], lang)
        if missing:
            return t("reasons.no_record", lang, what=t("reasons.what.content_share", lang, category=category))
        return _with_position(t("reasons.content_share", lang, category=category if lang == "zh" else
                                t(f"category.{name[len('content_share_'):]}", lang), value=say_number(100 * value)),
                              band, lang, scope)
    if name.startswith("content_pref_"):
        level = "low" if (band or "").startswith("bottom") else "high"
        rest = name[len("content_pref_"):]
        if rest == "edition_top":
            return t(f"reasons.content_pref_edition.{level}", lang)
        if rest in CONTENT_CATEGORIES:
            return t(f"reasons.content_pref.{level}", lang, category=_category(rest, lang))
        return None
    m = _VAS.match(name)
    if m:
        return _say_vas(m.group(1), m.group(2), m.group(3), value, lang, window)
    return None


def say(reason: Reason, lang: str | None = None, *, scope: str = "province", window: int = DEFAULT_WINDOW_MONTHS,
        feature_labels=None, value_labels=None) -> str:
    """A reason in words a caller can say.

    Parameters
    ----------
    reason : Reason
    lang : {"zh", "en"}, optional
        Default: the current language.
    scope : {"province", "scored"}
        Whom a position compares with: "全省的用户 / users in the province" or "评分用户 / scored users".
    window : int
        Months of history the features read (said as "in the last 6 months").
    feature_labels : mapping or callable, optional
        Display names of features that have no family phrase (else the name itself).
    value_labels : mapping or callable, optional
        Display texts of category levels (see :func:`workbench.models.rules.value_label`).

    Returns
    -------
    str

    Examples
    --------
    >>> say(Reason("tenure_months", 8.0), "zh")
    '入网 8 个月'
    >>> say(Reason("gprs_mb_mean", 812.0, "top5"), "en")
    'Mobile data: 812 MB a month on average, more than 95% of users in the province'
    """
    lang = lang or get_language()
    words = _say_catalogue(reason, lang, scope, window, value_labels)
    if words is not None:
        return words
    from workbench.models.rules import feature_label

    label = feature_label(reason.feature, feature_labels)
    value = reason.value
    if _is_missing(value):
        return t("reasons.generic.missing", lang, feature=label)
    if isinstance(value, bool):
        return t("reasons.generic.value", lang, feature=label, value=t(f"common.{'yes' if value else 'no'}", lang))
    if isinstance(value, str):
        return t("reasons.generic.value", lang, feature=label, value=_level(reason.feature, value, lang, value_labels))
    return _with_position(t("reasons.generic.number", lang, feature=label, value=say_number(value)),
                          reason.band, lang, scope)
