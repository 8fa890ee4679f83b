"""Template 03's reasons worded in both languages from their codes (workbench.ops.reasons)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.models import TargetModel, reason_codes
from workbench.models.province_inputs import feature_labels, value_labels
from workbench.ops.reasons import reason_words, text_words


@pytest.fixture(scope="module")
def explained():
    rng = np.random.default_rng(5)
    n = 1500
    brand = rng.choice(np.array(["gotone", "mzone", "easyown"]), n)
    branch = rng.choice(np.array(["urumqi", "hami", "kashgar"]), n)
    gprs = rng.gamma(2.0, 50.0, n)
    gprs[rng.random(n) < 0.05] = np.nan
    flag = rng.random(n) < 0.3
    logit = -3 + 1.5 * (brand == "mzone") + 0.02 * np.nan_to_num(gprs) + 1.0 * flag + 0.8 * (branch == "urumqi")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"brand": pd.array(brand, dtype="str"), "branch_id": pd.array(branch, dtype="str"),
                      "gprs_mb_mean": gprs, "handset_smartphone": flag})
    model = TargetModel(n_jobs=1).fit(X, y)
    return {lang: reason_codes(model, X, top=3, feature_labels=feature_labels(lang), value_labels=value_labels(lang),
                               lang=lang, scope="province")
            for lang in ("zh", "en")}


def test_every_code_is_worded_in_both_languages_as_template_03_words_it(explained):
    slots = ["reason_1", "reason_2", "reason_3"]
    codes = pd.concat([explained["zh"][f"{s}_code"] for s in slots])
    words = reason_words(codes)
    assert set(words["code"]) == {"brand", "branch_id", "gprs_mb_mean", "handset_smartphone"}
    for slot in slots:
        have = explained["zh"][f"{slot}_code"].notna()
        keys = explained["zh"][f"{slot}_code"][have].to_numpy()
        for lang in ("zh", "en"):
            assert (words.loc[keys, lang].to_numpy() == explained[lang][slot][have].to_numpy()).all()
        assert (words.loc[keys, "code"].to_numpy() == explained["zh"][f"{slot}_feature"][have].to_numpy()).all()
    gprs = words[words["code"] == "gprs_mb_mean"].dropna(subset=["band"]).iloc[0]
    assert gprs["value"] in gprs["zh"] and gprs["value"] in gprs["en"] and "MB" in gprs["en"]


def test_a_text_that_is_not_a_code_is_refused():
    with pytest.raises(ValueError, match="not a reason code"):
        reason_words(pd.Series(["GPRS流量位于全省前5%"]))


def test_scores_without_codes_keep_their_text_in_both_languages():
    words = text_words(pd.Series(["a", None, "a"]))
    assert words.to_dict("index") == {"a": {"code": "reason", "value": None, "band": None, "zh": "a", "en": "a"}}
