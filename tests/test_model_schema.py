"""Fast paths of the model schema's encoder: the same codes as a per-row lookup, the same rows as fancy indexing."""
import numpy as np
import pandas as pd
import pytest

from workbench.models.schema import CATEGORICAL, NUMERIC, FeatureSpec, as_text, encode_frame, level_codes, take_rows

LEVELS = ("b", "a", "1", "x y")


def per_row(s: pd.Series) -> np.ndarray:
    """The reference: each value's text looked up one by one."""
    return np.array([LEVELS.index(v) if isinstance(v, str) and v in LEVELS else -1
                     for v in as_text(s).astype(object).where(s.notna(), None)])


@pytest.mark.parametrize("s", [
    pd.Series(["a", "b", None, "zz", "1", "x y"], dtype="str"),
    pd.Series(["a", "b", None, "zz"], dtype="category"),
    pd.Series([1, 2, None], dtype="Int64"),
    pd.Series(pd.Categorical([1, 2, None])),
    pd.Series(["a", 1, None], dtype=object),
    pd.Series([None, None], dtype="str"),
    pd.Series(pd.Categorical([None, None], categories=[])),
], ids=["str", "category", "Int64", "int-category", "object", "all-missing", "no-categories"])
def test_level_codes_match_a_per_row_lookup(s):
    assert level_codes(s, LEVELS).tolist() == per_row(s).tolist()


def test_encode_frame_is_column_major_and_codes_levels():
    X = pd.DataFrame({"x": [1.5, None, 3.0], "c": pd.Series(["x y", "zz", "a"], dtype="str")})
    m = encode_frame(X, [FeatureSpec("x", NUMERIC), FeatureSpec("c", CATEGORICAL, LEVELS)])
    assert m.flags["F_CONTIGUOUS"]
    np.testing.assert_array_equal(m, np.array([[1.5, 3.0], [np.nan, np.nan], [3.0, 1.0]]))


@pytest.mark.parametrize("order", ["F", "C"])
def test_take_rows_equals_fancy_indexing(order):
    m = np.asarray(np.arange(40, dtype=float).reshape(8, 5), order=order)
    rows = np.array([7, 0, 3, 3])
    out = take_rows(m, rows)
    np.testing.assert_array_equal(out, m[rows])
    assert out.flags["F_CONTIGUOUS"] == (order == "F")
