"""Template 03's reasons in both languages, for the published cards.

Template 03 writes each subscriber's top-3 reasons as text in the run's language
(:func:`workbench.models.explain.reason_codes`).  The hall and the call centre read
them in either language, so publishing turns each text back into its parts - the
feature and its band among the province's subscribers, or the feature and its value -
and words them again in the other language from the same catalogue entries
(``model.reason.*``, the features' names, the category and branch names).

A text it cannot take apart keeps its words in both languages with the code ``reason``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.data.tables import BRANCHES
from workbench.i18n import catalogue, t

__all__ = ["REASON_COLUMNS", "model_features", "reason_words"]

#: Columns of :func:`reason_words` (its index is the text).
REASON_COLUMNS: tuple[str, ...] = ("code", "zh", "en")
_LANGS = ("zh", "en")


def model_features(model_dir) -> list[str] | None:
    """The input names of the model in ``model_dir`` (its ``features.json``), or None without a model."""
    if model_dir is None or not Path(model_dir).is_dir():
        return None
    from workbench.models.registry import load_card

    return [f["name"] for f in load_card(model_dir)["features"]["features"]]


def _value_words(feature: str) -> dict[str, tuple[str, str]]:
    """Display texts of a feature's category levels in either language -> (zh, en)."""
    words = {}
    if feature == "branch_id":
        words.update({w: (zh, en) for _, zh, en in BRANCHES for w in (zh, en)})
    prefix = f"{feature}."
    for key, entry in catalogue().items():
        if key.startswith(prefix) and "zh" in entry and "en" in entry:
            words[entry["zh"]] = words[entry["en"]] = (entry["zh"], entry["en"])
    for word in ("yes", "no"):
        words[t(f"common.{word}", "zh")] = words[t(f"common.{word}", "en")] = (t(f"common.{word}", "zh"),
                                                                               t(f"common.{word}", "en"))
    return words


def _dictionary(features: list[str], lang: str) -> dict[str, tuple[str, str, str]]:
    """Every band and missing-value text of ``features`` in ``lang`` -> (feature, zh, en)."""
    from workbench.models.explain import REASON_BANDS
    from workbench.models.province_inputs import feature_labels

    labels = {lg: feature_labels(lg) for lg in _LANGS}
    out: dict[str, tuple[str, str, str]] = {}
    for name in features:
        words = {}
        for lg in _LANGS:
            label, scope = labels[lg](name), t("model.reason.scope.province", lg)
            items = [t("model.reason.missing", lg, feature=label)]
            for side in ("top", "bottom"):
                items += [t(f"model.reason.{side}", lg, feature=label, pct=b, scope=scope) for b in REASON_BANDS]
            words[lg] = items
        for zh, en in zip(words["zh"], words["en"]):
            out[zh if lang == "zh" else en] = (name, zh, en)
    return out


def _value_patterns(features: list[str], lang: str) -> list[tuple[re.Pattern, str, str, str]]:
    """``"<feature> is <value>"`` in ``lang`` as a pattern per feature, with the feature's names."""
    from workbench.models.province_inputs import feature_labels

    zh_label, en_label = feature_labels("zh"), feature_labels("en")
    out = []
    for name in features:
        zh, en = zh_label(name), en_label(name)
        head, _, tail = t("model.reason.is", lang, feature=zh if lang == "zh" else en, value="\x00").partition("\x00")
        out.append((re.compile(re.escape(head) + "(.+)" + re.escape(tail) + "$"), name, zh, en))
    # longest feature names first: "Handset price band is ..." before "Handset is ..."
    return sorted(out, key=lambda p: -len(p[0].pattern))


def reason_words(texts: pd.Series, *, lang: str, features: list[str] | None = None) -> pd.DataFrame:
    """``code, zh, en`` of each distinct reason text (index: the text).

    Parameters
    ----------
    texts : Series
        Reason texts as template 03 wrote them (missing values are skipped).
    lang : {"zh", "en"}
        The language they are written in.
    features : list of str, optional
        The model's input names (:func:`model_features`); without them every text keeps its
        words in both languages with the code ``reason``.

    Returns
    -------
    DataFrame
        Indexed by the text: ``code`` (the feature's name, or ``reason``), ``zh``, ``en``.
    """
    uniq = pd.unique(texts.dropna().astype("str"))
    known = _dictionary(features, lang) if features else {}
    patterns = _value_patterns(features, lang) if features else []
    values = {}
    rows = []
    for text in uniq:
        if text in known:
            rows.append((text, *known[text]))
            continue
        for rx, name, zh, en in patterns:
            m = rx.match(text)
            if m:
                if name not in values:
                    values[name] = _value_words(name)
                zh_value, en_value = values[name].get(m.group(1), (m.group(1), m.group(1)))
                rows.append((text, name, t("model.reason.is", "zh", feature=zh, value=zh_value),
                             t("model.reason.is", "en", feature=en, value=en_value)))
                break
        else:
            rows.append((text, "reason", text, text))
    return pd.DataFrame(rows, columns=["text", *REASON_COLUMNS]).set_index("text")
