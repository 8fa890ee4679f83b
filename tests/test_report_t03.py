"""Template 03's presentation (workbench.report.t03) on small explicit inputs: numbers as text, the row's
subject as the index, the catalogue's headers. The same functions on a real pipeline are exercised by
tests/test_model_province.py and template 03's test."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.metrics.classification import evaluate_classifier
from workbench.models.province import Validation
from workbench.models.sample import OutOfTimePlan, SampleComposition
from workbench.report.t03 import (
    benchmark_display, composition_table, gains_display, sample_cards, story, validation_table,
)

COMP = SampleComposition(product="mobile_newspaper", snapshot="2026-10", stable_months=3, sample_size=19_899,
                         potential=19_194, stable=705, recent=101, base=20_000)


def _pipe(validation=None) -> SimpleNamespace:
    return SimpleNamespace(composition=COMP, validation=validation, explanation=None, scores=None, method="lookalike")


@pytest.fixture(scope="module")
def validation() -> Validation:
    rng = np.random.default_rng(3)
    y = (rng.random(2_000) < 0.05).astype(np.int8)
    scores = {"model": y + rng.random(2_000), "logistic": 0.5 * y + rng.random(2_000), "rules": rng.random(2_000)}
    results = {name: evaluate_classifier(y, s, list_size=0.1) for name, s in scores.items()}
    plan = OutOfTimePlan(train_snapshot="2026-07", eval_snapshot="2026-10", horizon=3)
    return Validation(plan=plan, composition=COMP, outcomes={"stable": 90, "recent": 10, "potential": 1_900},
                      results=results, list_size=0.1, rounds=50)


def test_composition_table_shows_counts_and_percentages_indexed_by_item():
    table = composition_table(_pipe(), "en")
    assert table.index.name == "Item" and table.columns.tolist() == ["Users", "Share"]
    assert table["Users"].tolist() == ["19,899", "19,194", "705", "101"]
    assert table["Share"].tolist() == ["100.00%", "96.46%", "3.54%", "0.51%"]


def test_sample_cards_are_the_composition_counts_and_the_target_share():
    values, formats = sample_cards(_pipe())
    assert values == {"t03.kpi.sample": 19_899, "t03.kpi.potential": 19_194, "t03.kpi.stable": 705,
                      "t03.kpi.share": COMP.target_share}
    assert formats == {"t03.kpi.share": "{:.3%}"}


def test_validation_and_gains_tables_format_every_figure(validation):
    table = validation_table(_pipe(validation), "en")
    summary = validation.summary().set_index("model")
    assert table.index.tolist() == ["Target model", "Logistic baseline", "Rules baseline"]
    assert table.loc["Logistic baseline", "AUC"] == f"{summary.loc['logistic', 'auc']:.3f}"
    assert table.loc["Target model", "Lift at top 10%"] == f"{summary.loc['model', 'lift']:.2f}"
    assert table.loc["Rules baseline", "Capture at top 10%"] == f"{100 * summary.loc['rules', 'capture']:.2f}%"
    gains = gains_display(_pipe(validation), "logistic", "en")
    raw = validation.results["logistic"]["gains"]
    assert gains.index.tolist() == list(range(1, 11)) and gains.index.name == "Bin"
    assert gains["Positives"].tolist() == [f"{int(v):,}" for v in raw["positives"]]       # 23, not 23.0
    assert gains["Cumulative capture"].iloc[-1] == "100.00%"
    with pytest.raises(ParameterError, match="run validate"):
        gains_display(_pipe(), lang="en")


def test_validation_story_carries_the_numbers_the_narrative_formats(validation):
    key, values = story(_pipe(validation), "validation")
    assert key == "t03.validation.story"
    assert values["converted"] == 90 and values["train"] == "2026-07" and values["potential"] == COMP.potential
    with pytest.raises(ParameterError, match="run validate"):
        story(_pipe(), "baselines")


def test_benchmark_display_names_the_contenders_and_shows_ratios_as_percentages():
    bench = pd.DataFrame({"contender": ["model", "oracle"], "users": [19_194, 19_194], "positives": [161, 161],
                          "auc": [0.8031, 0.8702], "lift": [4.1, 5.218], "auc_ratio": [0.9229, 1.0],
                          "lift_ratio": [0.7857, 1.0]})
    shown = benchmark_display(bench, "en")
    assert shown.index.tolist() == ["Target model", "Oracle (true probability)"]
    assert shown.loc["Target model"].tolist() == ["19,194", "161", "0.803", "4.10", "92.3%", "78.6%"]
    assert benchmark_display(None, "en") is None
