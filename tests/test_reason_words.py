"""Reasons in words a caller can say (workbench.models.reason_words): one phrase per feature family, zh and en,
numbers a person can read out, never a column name or a "window"."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.features import FEATURE_INDEX
from workbench.models import TargetModel, reason_codes
from workbench.models.province_inputs import DERIVED, feature_labels, value_labels
from workbench.models.reason_words import Reason, say, say_number
from report_scan import COLUMNS

#: Words of the feature catalogue's jargon that a caller must never read.
JARGON = ("窗口", "快照", "window", "snapshot", "最小二乘", "least-squares", "spell")


def _plain(text: str) -> list[str]:
    """Column names and jargon found in ``text``."""
    found = [w for w in JARGON if w in text]
    found += [c for c in COLUMNS if "_" in c and re.search(rf"(?<![A-Za-z0-9_]){re.escape(c)}(?![A-Za-z0-9_])", text)]
    return found


# (reason, zh, en): one case per phrase family
FAMILIES = [
    ("tenure", Reason("tenure_months", 8.0), "入网 8 个月", "Customer for 8 months"),
    ("monthly average, MB", Reason("gprs_mb_mean", 812.0, "top5"), "月均流量 812 MB，高于全省 95% 的用户",
     "Mobile data: 812 MB a month on average, more than 95% of users in the province"),
    ("monthly average, yuan", Reason("vas_spend_mean", 6.5, "top20"), "月均增值业务消费 6.5 元，高于全省 80% 的用户",
     "Spend on value-added services: 6.5 yuan a month on average, more than 80% of users in the province"),
    ("monthly average, minutes", Reason("voice_minutes_mean", 320.0, "bottom30"),
     "月均通话 320 分钟，低于全省 70% 的用户",
     "Calls: 320 minutes a month on average, less than 70% of users in the province"),
    ("last month", Reason("arpu_last", 1234.0, "top1"), "上个月话费 1,234 元，高于全省 99% 的用户",
     "Phone bill: 1,234 yuan last month, more than 99% of users in the province"),
    ("trend", Reason("sms_count_trend", -12.0), "发短信逐月减少，每月约少 12 条",
     "Text messages falling by about 12 messages a month"),
    ("content count", Reason("content_sports_mean", 15.0, "top10"), "月均看体育内容 15 次，高于全省 90% 的用户",
     "Sports content read: 15 items a month on average, more than 90% of users in the province"),
    ("share", Reason("content_share_news", 0.4), "新闻内容占其内容消费的 40%",
     "News is 40% of the content they read"),
    ("category preference", Reason("content_pref_sports", 0.6, "top10"), "常看体育内容",
     "Often reads sports content"),
    ("yes flag", Reason("handset_smartphone", True), "用的是智能手机", "Uses a smartphone"),
    ("no flag", Reason("vas_fam_fetion_active", False), "目前没有使用飞信", "Does not use Fetion now"),
    ("orders", Reason("vas_cat_news_orders", 2.0), "近 6 个月订购过新闻类内容产品 2 次",
     "Ordered news content products 2 times in the last 6 months"),
    ("months since", Reason("vas_fam_mobile_stock_months_since_order", 4.0), "4 个月前订购过手机炒股",
     "Ordered mobile stock trading 4 months ago"),
    ("never", Reason("vas_fam_mobile_stock_months_since_order", None), "从未订购过手机炒股",
     "Never ordered mobile stock trading"),
    ("handset change", Reason("handset_months_since_change", 2.0), "2 个月前换过手机", "Changed handset 2 months ago"),
    ("branch", Reason("branch_id", "hami"), "哈密的用户", "A customer in Hami"),
    ("brand", Reason("brand", "mzone"), "使用动感地带品牌", "On the M-Zone brand"),
    ("age", Reason("age", 34.0), "34 岁", "Aged 34"),
]


@pytest.mark.parametrize("family, reason, zh, en", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_each_family_has_its_phrase_in_both_languages(family, reason, zh, en):
    assert say(reason, "zh") == zh
    assert say(reason, "en") == en
    for text in (zh, en):
        assert _plain(text) == []


def test_numbers_are_said_as_people_say_them():
    assert [say_number(v) for v in (812.4, 1234.6, 3.46, 0.0, 10.0, -7.25)] == ["812", "1,235", "3.5", "0", "10",
                                                                                 "-7.2"]
    # the value is in the words
    assert "812" in say(Reason("gprs_mb_max", 812.4, "top5"), "zh")


def test_the_scope_names_whom_the_position_compares_with():
    assert say(Reason("gprs_mb_mean", 812.0, "top5"), "zh", scope="scored") == "月均流量 812 MB，高于 95% 的评分用户"
    assert say(Reason("gprs_mb_mean", 0.0), "en") == "Mobile data: 0 MB a month on average"   # no band: no position


def test_the_window_is_said_in_months():
    assert say(Reason("handset_changes_window", 2.0), "zh", window=3) == "近 3 个月换过 2 次手机"
    assert say(Reason("usage_months", 5.0), "en") == "Used the phone in 5 of the last 6 months"


def test_any_other_feature_is_said_plainly_from_its_display_name():
    labels = {"points": "Loyalty points"}
    assert say(Reason("points", 3.0, "top10"), "en", feature_labels=labels) == (
        "Loyalty points: 3, more than 90% of users in the province")
    assert say(Reason("points", None), "zh", feature_labels={"points": "积分"}) == "积分：未知"
    assert say(Reason("vip", True), "zh", feature_labels={"vip": "贵宾"}) == "贵宾：是"
    assert say(Reason("tier", "gold"), "en", value_labels={"tier": {"gold": "Gold"}}) == "tier: Gold"


def test_every_input_of_the_province_model_is_said_without_column_names_or_jargon():
    names = [*FEATURE_INDEX, *DERIVED, "content_pref_edition_top",
             *(f"content_pref_{c}" for c in ("news", "sports", "finance", "entertainment", "music", "games"))]
    for name in names:
        f = FEATURE_INDEX.get(name)
        if f is not None and f.dtype == "bool":
            values = [True, False]
        elif f is not None and f.dtype == "category":
            values = [(f.categories or ("x",))[0], None]
        else:
            values = [17.0, None]
        for value in values:
            for band in (None, "top5", "bottom20"):
                for lang in ("zh", "en"):
                    text = say(Reason(name, value, band), lang, feature_labels=feature_labels(lang),
                               value_labels=value_labels(lang))
                    assert text and _plain(text) == [], (name, value, band, lang, text)
                    if isinstance(value, float) and not name.startswith("content_pref_"):
                        assert re.search(r"\d", text), (name, lang, text)


def test_a_code_keeps_feature_value_and_band():
    reason = Reason("gprs_mb_mean", 812.0, "top5")
    assert Reason.from_code(reason.code()) == reason
    assert Reason.from_code(Reason("brand", None).code()) == Reason("brand", None)
    with pytest.raises(ValueError, match="not a reason code"):
        Reason.from_code("GPRS流量位于全省前5%")


def test_reason_codes_of_catalogue_features_read_as_phrases_with_codes():
    rng = np.random.default_rng(3)
    n = 400
    X = pd.DataFrame({"gprs_mb_mean": np.r_[np.arange(1, n, dtype=float), np.nan],
                      "tenure_months": rng.integers(1, 60, n).astype(float)})
    y = (np.arange(n) % 4 == 0).astype(int)
    model = TargetModel(n_jobs=1).fit(X, y)
    shap = pd.DataFrame({"gprs_mb_mean": 1.0, "tenure_months": 0.5, "bias": -2.0}, index=X.index)
    zh = reason_codes(model, X, shap=shap, lang="zh")
    en = reason_codes(model, X, shap=shap, lang="en")
    top = n - 2                               # value 399 of 1..399: the top 1%
    assert zh.loc[top, "reason_1"] == "月均流量 399 MB，高于全省 99% 的用户"
    assert en.loc[top, "reason_2"] == f"Customer for {int(X.loc[top, 'tenure_months'])} months"
    assert zh.loc[n - 1, "reason_1"] == "没有流量记录"
    code = Reason.from_code(zh.loc[top, "reason_1_code"])
    assert code == Reason("gprs_mb_mean", 399.0, "top1")
    assert say(code, "en") == en.loc[top, "reason_1"]
    assert (zh["reason_1_feature"] == "gprs_mb_mean").all()


def test_the_words_say_the_observed_values_when_the_model_scores_aligned_ones():
    X = pd.DataFrame({"tenure_months": np.arange(1.0, 201.0)})
    model = TargetModel(n_jobs=1).fit(X, (np.arange(200) % 3 == 0).astype(int))
    shap = pd.DataFrame({"tenure_months": 1.0, "bias": -1.0}, index=X.index)
    aligned = X + 3                                    # as the look-alike scores them, 3 months on
    words = reason_codes(model, aligned, shap=shap, lang="zh", values=X)
    assert words.loc[7, "reason_1"] == "入网 8 个月"
    assert reason_codes(model, aligned, shap=shap, lang="zh").loc[7, "reason_1"] == "入网 11 个月"
    with pytest.raises(ParameterError, match="values must hold the rows of X"):
        reason_codes(model, aligned, shap=shap, values=X.iloc[::-1])
