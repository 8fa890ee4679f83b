"""Template 03's reasons in both languages, for the published cards.

Template 03 keeps each subscriber's top-3 reasons twice: in words in the run's language
(``reason_<i>``) and as structured codes (``reason_<i>_code``: feature, value, band;
:class:`workbench.models.reason_words.Reason`).  The hall and the call centre read them in
either language, so publishing words each code in Chinese and in English with the same
phrases (:func:`workbench.models.reason_words.say`) - nothing is read back from the words.

Scores written before the codes existed (no ``reason_<i>_code`` column) keep their words in
both languages with the code ``reason``.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["REASON_COLUMNS", "reason_words", "text_words"]

#: Columns of :func:`reason_words` and :func:`text_words` (their index is the code or the text).
REASON_COLUMNS: tuple[str, ...] = ("code", "value", "band", "zh", "en")


def _value_text(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None if value is None else ("yes" if value else "no")
    if isinstance(value, float):
        from workbench.models.reason_words import say_number

        return say_number(value)
    return str(value)


def reason_words(codes: pd.Series, *, scope: str = "province") -> pd.DataFrame:
    """``code, value, band, zh, en`` of each distinct reason code (index: the code text).

    Parameters
    ----------
    codes : Series
        ``reason_<i>_code`` texts of template 03's scores (missing values are skipped).
    scope : {"province", "scored"}
        Whom a position compares with (as template 03 scored: the province).

    Returns
    -------
    DataFrame
        Indexed by the code text: ``code`` (the feature), ``value`` (as said: "812", "mzone"),
        ``band`` ("top5" or missing), ``zh`` and ``en`` (the reason in words).

    Raises
    ------
    ValueError
        A text that is not a reason code.
    """
    from workbench.models.province_inputs import feature_labels, value_labels
    from workbench.models.reason_words import Reason, say

    rows = []
    labels = {lang: (feature_labels(lang), value_labels(lang)) for lang in ("zh", "en")}
    for text in pd.unique(codes.dropna().astype("str")):
        reason = Reason.from_code(text)
        words = [say(reason, lang, scope=scope, feature_labels=labels[lang][0], value_labels=labels[lang][1])
                 for lang in ("zh", "en")]
        rows.append((text, reason.feature, _value_text(reason.value), reason.band, *words))
    return pd.DataFrame(rows, columns=["key", *REASON_COLUMNS]).set_index("key")


def text_words(texts: pd.Series) -> pd.DataFrame:
    """Reasons known only as words (scores without codes): each text in both languages, code ``reason``."""
    uniq = pd.unique(texts.dropna().astype("str"))
    return pd.DataFrame({"key": uniq, "code": "reason", "value": None, "band": None, "zh": uniq, "en": uniq},
                        columns=["key", *REASON_COLUMNS]).set_index("key")
