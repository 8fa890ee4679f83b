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


# ------------------------------------------------------------------ CSV files as people export them
def test_semicolon_file_with_quoted_text_like_the_uci_bank_marketing_export(tmp_path):
    path = tmp_path / "bank-full.csv"
    path.write_text('"age";"job";"balance";"y"\n58;"management";2143;"no"\n44;"technician";29;"yes"\n'
                    '33;"unknown";2;"no"\n', encoding="utf-8")
    df = read_table(path)
    assert df.columns.tolist() == ["age", "job", "balance", "y"]
    assert df["age"].tolist() == [58, 44, 33] and df["y"].tolist() == ["no", "yes", "no"]
    assert table_columns(path) == ["age", "job", "balance", "y"]


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_tab_and_pipe_delimiters_are_recognised_whatever_the_suffix(tmp_path, sep):
    path = tmp_path / "t.txt"
    path.write_text(sep.join(["id", "city", "spend"]) + "\n" + sep.join(["1", "a, b", "2.5"]) + "\n"
                    + sep.join(["2", "c", "3"]) + "\n", encoding="utf-8")
    df = read_table(path)
    assert df.columns.tolist() == ["id", "city", "spend"] and df["city"].tolist() == ["a, b", "c"]


def test_spaces_after_commas_and_question_marks_like_the_adult_census_file(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text("age, workclass, income\n39, State-gov, <=50K\n50, ?, >50K\n", encoding="utf-8")
    df = read_table(path)
    assert df.columns.tolist() == ["age", "workclass", "income"]
    assert df["workclass"].isna().tolist() == [False, True] and df["income"].tolist() == ["<=50K", ">50K"]


def test_numbers_with_blank_cells_stay_numbers_like_the_telco_churn_file(tmp_path):
    path = tmp_path / "telco.csv"
    path.write_text("customerID,TotalCharges,Churn\n7590-VHVEG,29.85,No\n4472-LVYGI, ,Yes\n3668-QPYBK,108.15,No\n",
                    encoding="utf-8")
    df = read_table(path)
    assert pd.api.types.is_float_dtype(df["TotalCharges"])
    assert df["TotalCharges"].isna().tolist() == [False, True, False]


def test_chinese_excel_files_in_gbk_and_utf8_with_bom_are_read(tmp_path):
    df = pd.DataFrame({"号码": ["138****0001", "139****0002"], "城市": ["乌鲁木齐", "哈密"], "订购": ["是", "否"]})
    gbk, bom = tmp_path / "gbk.csv", tmp_path / "bom.csv"
    df.to_csv(gbk, index=False, encoding="gbk")
    df.to_csv(bom, index=False, encoding="utf-8-sig")
    for path in (gbk, bom):
        back = read_table(path)
        assert back.columns.tolist() == ["号码", "城市", "订购"] and back["城市"].tolist() == ["乌鲁木齐", "哈密"]


def test_a_file_that_turns_gbk_after_the_sample_is_read_whole(tmp_path):
    path = tmp_path / "late.csv"
    rows = ["id,city"] + [f"{i},abc" for i in range(200_000)] + ["200000,乌鲁木齐"]  # > 1 MB of ASCII first
    path.write_bytes("\n".join(rows).encode("gbk") + b"\n")
    assert read_table(path)["city"].iloc[-1] == "乌鲁木齐"


def test_undecodable_bytes_name_the_file_and_the_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,name\n1,caf\xff\n")
    with pytest.raises(ParameterError, match=r"'--data' file latin.csv is neither UTF-8 nor GB18030/GBK .*xff"):
        read_table(path)


def test_written_csv_opens_in_excel_with_chinese_text_and_reads_back(tmp_path):
    path = write_table(pd.DataFrame({"id": [1], "理由": ["GPRS 流量处于全省前 10%"]}), tmp_path / "scores.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the byte-order mark for UTF-8
    assert read_table(path).columns.tolist() == ["id", "理由"]


def test_zip_with_more_than_one_file_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "t.csv.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", "id\n1\n")
        z.writestr("b.csv", "id\n2\n")
    with pytest.raises(ParameterError,
                       match=r"t.csv.zip must hold exactly one CSV file; it holds \['a.csv', 'b.csv'\]"):
        read_table(path)
