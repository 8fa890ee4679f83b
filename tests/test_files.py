"""workbench.data.files: the single CSV/Parquet tables of the generic paths."""
import pandas as pd
import pytest

from workbench.data.files import file_format, read_table, table_columns, write_table
from workbench.errors import ParameterError


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet", "t.csv.gz"])
def test_round_trip_by_suffix(tmp_path, name):
    df = pd.DataFrame({"id": [1, 2], "segment": ["a b", "c"], "spend": [1.5, None]})
    path = write_table(df, tmp_path / "sub" / name)
    assert table_columns(path) == ["id", "segment", "spend"]
    back = read_table(path)
    assert back["segment"].tolist() == ["a b", "c"] and back["spend"].isna().tolist() == [False, True]
    assert read_table(path, ["spend", "id"]).columns.tolist() == ["spend", "id"]


def test_missing_column_names_the_available_ones(tmp_path):
    path = write_table(pd.DataFrame({"id": [1], "x": [2]}), tmp_path / "t.csv")
    with pytest.raises(ParameterError, match=r"'y' is not in t.csv; available columns are \['id', 'x'\]"):
        read_table(path, ["id", "y"])


def test_bad_suffix_and_missing_file_name_the_parameter(tmp_path):
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(ParameterError, match=r"'--data' parameter must be a CSV .* or Parquet"):
        file_format(tmp_path / "t.xlsx")
    with pytest.raises(ParameterError, match=r"'--model-data' file .*nope.csv' does not exist"):
        read_table(tmp_path / "nope.csv", parameter="--model-data")
    with pytest.raises(ParameterError, match="'--out' parameter"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.json")
