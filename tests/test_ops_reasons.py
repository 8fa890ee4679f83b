"""Template 03's reasons worded again in the other language (workbench.ops.reasons)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.models import TargetModel, reason_codes
from workbench.models.province_inputs import feature_labels, value_labels
from workbench.ops.reasons import model_features, reason_words


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
                      "gprs_mb": gprs, "flag": flag})
    model = TargetModel(n_jobs=1).fit(X, y)
    texts = {lang: reason_codes(model, X, top=3, feature_labels=feature_labels(lang),
                                value_labels=value_labels(lang), lang=lang, scope="province")
             for lang in ("zh", "en")}
    return model, texts


@pytest.mark.parametrize("source, other", [("en", "zh"), ("zh", "en")])
def test_every_reason_is_worded_in_the_other_language_as_template_03_would(explained, source, other):
    model, texts = explained
    slots = ["reason_1", "reason_2", "reason_3"]
    written = pd.concat([texts[source][s] for s in slots])
    words = reason_words(written, lang=source, features=list(model.feature_names_))
    assert (words["code"] != "reason").all()
    for slot in slots:
        have = texts[source][slot].notna()
        got = words.loc[texts[source][slot][have].to_numpy(), other].to_numpy()
        assert (got == texts[other][slot][have].to_numpy()).all()
        codes = words.loc[texts[source][slot][have].to_numpy(), "code"].to_numpy()
        assert (codes == texts[source][f"{slot}_feature"][have].to_numpy()).all()


def test_without_the_model_texts_stay_as_written():
    assert model_features(None) is None
    words = reason_words(pd.Series(["a", None, "a"]), lang="en")
    assert words.to_dict("index") == {"a": {"code": "reason", "zh": "a", "en": "a"}}
