"""The oracle benchmark (workbench.demo.benchmark) on a tiny explicit truth. Its run on a generated
province through a pipeline is in tests/test_model_province.py."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.demo.benchmark import benchmark_against_truth, truth_benchmark
from workbench.errors import DataValidationError, ParameterError

TRUTH = pd.DataFrame({"subscriber_id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                      "next_stable_mobile_newspaper": [1, 0, 1, 0, 0, 0, 0, 0, 0, 0],
                      "p_stable_next_mobile_newspaper": [0.9, 0.1, 0.8, 0.2, 0.3, 0.1, 0.1, 0.2, 0.1, 0.1]})


def test_model_and_oracle_side_by_side_with_ratios():
    scores = pd.DataFrame({"subscriber_id": [3, 2, 1, 4, 5, 6, 7, 8, 9, 10],
                           "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]})
    bench = truth_benchmark(scores, TRUTH, "mobile_newspaper", list_size=0.2)
    assert bench["contender"].tolist() == ["model", "oracle"]
    assert bench["users"].tolist() == [10, 10] and bench["positives"].tolist() == [2, 2]
    assert bench["auc"].tolist() == [pytest.approx(15 / 16), 1.0]           # one negative (id 2) above id 1
    assert bench["capture"].tolist() == [0.5, 1.0] and bench["lift_ratio"].tolist() == [0.5, 1.0]
    assert bench.loc[0, "auc_ratio"] == pytest.approx(15 / 16)


def test_truth_from_another_province_or_without_the_family_is_refused():
    with pytest.raises(DataValidationError, match="1 scored subscriber"):
        truth_benchmark(pd.DataFrame({"subscriber_id": [99], "score": [0.5]}), TRUTH)
    with pytest.raises(DataValidationError, match="truth lacks"):
        truth_benchmark(pd.DataFrame({"subscriber_id": [1], "score": [0.5]}), TRUTH, "fetion")


def test_benchmark_against_truth_needs_scores_and_skips_without_a_truth(tmp_path):
    from types import SimpleNamespace

    with pytest.raises(ParameterError, match="run score"):
        benchmark_against_truth(SimpleNamespace(scores=None, product="mobile_newspaper"), source=tmp_path)
    scored = SimpleNamespace(scores=TRUTH[["subscriber_id"]].assign(score=0.5), product="mobile_newspaper")
    assert benchmark_against_truth(scored, truth_folder=tmp_path) is None
    assert benchmark_against_truth(scored) is None
