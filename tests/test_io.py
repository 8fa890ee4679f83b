"""Tests of workbench.data.io: load / validate / save of a province extract."""
from __future__ import annotations

import datetime as dt
import json
import warnings

import duckdb
import pandas as pd
import pytest

from workbench.data.io import CHECKS, ExtraColumnWarning, Province, Report, load, save, validate
from workbench.data.tables import REQUIRED_TABLES, TABLES, table
from workbench.errors import DataValidationError, ParameterError

AS_OF = "2024-06-30"


# ------------------------------------------------------------------ fixtures
def province_frames() -> dict[str, pd.DataFrame]:
    """A valid 3-subscriber province, built by hand (fresh copies on every call)."""
    branches = pd.DataFrame({
        "branch_id": ["urumqi", "karamay"], "name_zh": ["乌鲁木齐", "克拉玛依"],
        "name_en": ["Urumqi", "Karamay"], "is_capital": [True, False],
    })
    handset_models = pd.DataFrame({
        "handset_model": ["N73", "K1"], "vendor": ["Nokia", "Motorola"], "price_band": ["high", "low"],
        "cap_wap": [True, True], "cap_mms": [True, False], "cap_java": [True, False],
        "cap_mp3": [True, False], "smartphone": [True, False],
    })
    vas_products = pd.DataFrame({
        "product_id": ["MN01", "RB01"], "family": ["mobile_newspaper", "ringback_tone"],
        "name_zh": ["新闻早晚报", "彩铃"], "name_en": ["News morning/evening", "Ring-back tone"],
        "content_category": ["news", None], "edition": ["morning", None],
        "monthly_fee": [3.0, 5.0], "free_months": [1, 0], "required_capability": ["mms", None],
    })
    subscribers = pd.DataFrame({
        "subscriber_id": [1, 2, 3], "msisdn": ["13800000001", "13800000002", "13800000003"],
        "branch_id": ["urumqi", "karamay", "urumqi"], "brand": ["gotone", "mzone", "easyown"],
        "tariff_plan": ["0058", "M18", "E10"],
        "join_date": pd.to_datetime(["2020-01-05", "2023-03-01", "2024-02-10"]),
        "age": pd.array([35, None, 22], dtype="Int64"), "gender": ["M", "F", None],
        "rejoined": [False, True, False],
    })
    usage = pd.DataFrame({
        "subscriber_id": [1, 1, 2, 2, 3, 3],
        "month": pd.to_datetime(["2024-04-01", "2024-05-01"] * 3),
    })
    for column in table("monthly_usage").columns[2:]:
        usage[column.name] = [1, 2, 3, 4, 5, 6] if column.dtype == "int" else [1.5, 2.5, 0.0, 4.0, 5.0, 6.25]
    vas_orders = pd.DataFrame({
        "event_id": [10, 11, 12], "subscriber_id": [1, 1, 3], "product_id": ["MN01", "MN01", "RB01"],
        "event_date": pd.to_datetime(["2024-04-03", "2024-05-20", "2024-05-02"]),
        "event_type": ["order", "unsubscribe", "order"], "channel": ["sms", "hall", "wap_push"],
    })
    handset_events = pd.DataFrame({
        "subscriber_id": [1, 2, 3, 3],
        "event_date": pd.to_datetime(["2020-01-05", "2023-03-01", "2024-02-10", "2024-05-09"]),
        "imei": ["356000000000001", "356000000000002", "356000000000003", "356000000000004"],
        "handset_model": ["N73", "K1", "K1", "N73"],
    })
    return {
        "branches": branches, "handset_models": handset_models, "vas_products": vas_products,
        "subscribers": subscribers, "monthly_usage": usage, "vas_orders": vas_orders,
        "handset_events": handset_events,
    }


def write_province(folder, frames=None, fmt: str = "parquet"):
    """Write ``frames`` (default: the valid province) to ``folder`` as Parquet, CSV or partitioned Parquet."""
    frames = province_frames() if frames is None else frames
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        elif fmt == "parts":
            (folder / name).mkdir()
            half = len(frame) // 2
            frame.iloc[:half].to_parquet(folder / name / "part-0.parquet", index=False)
            frame.iloc[half:].to_parquet(folder / name / "part-1.parquet", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def frames():
    return province_frames()


@pytest.fixture
def province_dir(tmp_path):
    return write_province(tmp_path / "province")


def problem_keys(problems) -> set[tuple]:
    return {(p["table"], p["column"], p["check"]) for p in problems}


def single_problem(frames, as_of=AS_OF, **kwargs) -> dict:
    with pytest.raises(DataValidationError) as info:
        load(frames, as_of=as_of, **kwargs)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


# ------------------------------------------------------------- valid extract
def test_valid_province_loads_with_documented_types(frames):
    province = load(frames, as_of=AS_OF)
    assert isinstance(province, Province)
    assert list(province) == list(REQUIRED_TABLES)
    assert province.row_counts == {name: len(frames[name]) for name in REQUIRED_TABLES}
    subs = province.subscribers
    assert subs is province["subscribers"]
    assert subs["subscriber_id"].dtype == "int64"
    assert subs["age"].dtype == "Int64"  # nullable int
    assert subs["msisdn"].dtype == "str"
    assert subs["rejoined"].dtype == bool
    assert subs["join_date"].dtype == "datetime64[us]"
    assert province.monthly_usage["voice_minutes"].dtype == "float64"
    assert province.as_of == pd.Timestamp(AS_OF)
    assert "subscribers=3" in repr(province)


def test_province_is_read_only(frames):
    province = load(frames, as_of=AS_OF)
    with pytest.raises(TypeError):
        province.frames["subscribers"] = frames["subscribers"]
    with pytest.raises(KeyError, match="not loaded"):
        province["nope"]
    with pytest.raises(AttributeError, match="no table 'nope'"):
        province.nope  # noqa: B018 - the attribute access is what raises


def test_columns_come_in_model_order_with_extras_last(frames):
    frames["subscribers"] = frames["subscribers"][list(reversed(frames["subscribers"].columns))]
    frames["subscribers"]["note"] = "x"
    with pytest.warns(ExtraColumnWarning, match=r"'subscribers'.*\['note'\]"):
        province = load(frames, as_of=AS_OF)
    assert list(province.subscribers.columns) == [*TABLES["subscribers"].column_names, "note"]
    assert province.subscribers["note"].tolist() == ["x", "x", "x"]


def test_no_warning_without_extra_columns(frames):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(frames, as_of=AS_OF)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "parts"])
def test_folder_sources_give_the_same_frames(tmp_path, fmt):
    expected = load(province_frames(), as_of=AS_OF)
    province = load(write_province(tmp_path / fmt, fmt=fmt), as_of=AS_OF)
    for name in REQUIRED_TABLES:
        pd.testing.assert_frame_equal(province[name], expected[name], check_exact=True)


def test_duckdb_file_source_gives_the_same_frames(tmp_path, frames):
    path = tmp_path / "province.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in frames.items():
        con.register("frame", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
    con.close()
    expected = load(province_frames(), as_of=AS_OF)
    province = load(path, as_of=AS_OF)
    for name in REQUIRED_TABLES:
        pd.testing.assert_frame_equal(province[name], expected[name])


def test_csv_text_is_converted_by_the_schema(tmp_path, frames):
    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    subs = frames["subscribers"].astype({"age": "float64"})  # spreadsheets export ints as 35.0
    subs["rejoined"] = ["no", "YES", "0"]
    subs["join_date"] = ["2020-01-05", "2023-03-01 00:00:00", "2024-02-10"]  # mixed ISO forms
    subs.to_csv(folder / "subscribers.csv", index=False)
    province = load(folder, as_of=AS_OF)
    out = province.subscribers
    assert out["age"].tolist() == [35, pd.NA, 22]
    assert out["rejoined"].tolist() == [False, True, False]
    assert out["tariff_plan"].tolist()[0] == "0058"  # text keeps its leading zeros
    assert out["join_date"].tolist()[1] == pd.Timestamp("2023-03-01")


# ---------------------------------------------------------- each error kind
def test_missing_required_column(frames):
    frames["monthly_usage"] = frames["monthly_usage"].rename(columns={"gprs_mb": "gprs"})
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("monthly_usage", "gprs_mb", "missing_column")}
    assert "found similar: gprs" in problem["expected"]


def test_wrong_type_in_csv_text(tmp_path, frames):
    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    usage = frames["monthly_usage"].astype({"voice_calls": object})
    usage.loc[3, "voice_calls"] = "many"
    usage.to_csv(folder / "monthly_usage.csv", index=False)
    problem = single_problem(folder)
    assert problem_keys([problem]) == {("monthly_usage", "voice_calls", "wrong_type")}
    assert problem["count"] == 1 and problem["examples"] == ["many"] and problem["rows"] == [3]


@pytest.mark.parametrize(("table_name", "column", "bad"), [
    ("subscribers", "rejoined", "maybe"),
    ("subscribers", "join_date", "2024-13-01"),
    ("subscribers", "age", "35.5"),
    ("vas_products", "monthly_fee", "three"),
])
def test_wrong_type_for_every_logical_type(frames, table_name, column, bad):
    frame = frames[table_name].astype({column: object})
    frame.loc[1, column] = bad
    frames[table_name] = frame
    problem = single_problem(frames)
    assert (problem["table"], problem["column"], problem["check"]) == (table_name, column, "wrong_type")
    assert problem["examples"] == [bad]


def test_missing_value_in_non_nullable_column(frames):
    frames["subscribers"].loc[0, "msisdn"] = None
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("subscribers", "msisdn", "missing_value")}
    assert problem["rows"] == [0]


def test_missing_value_in_int_column_is_not_also_a_wrong_type(frames):
    frames["monthly_usage"]["sms_count"] = [1, None, 3, 4, 5, 6]  # becomes float with NaN
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("monthly_usage", "sms_count", "missing_value")}


def test_duplicate_single_primary_key(frames):
    frames["vas_orders"].loc[2, "event_id"] = 10
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("vas_orders", "event_id", "duplicate_key")}
    assert problem["count"] == 2 and problem["examples"] == [10]


def test_duplicate_composite_primary_key(frames):
    frames["monthly_usage"].loc[1, "month"] = pd.Timestamp("2024-04-01")
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("monthly_usage", "subscriber_id, month", "duplicate_key")}
    assert problem["examples"] == [[1, "2024-04-01"]]
    assert problem["rows"] == [0, 1]


def test_same_composite_key_in_different_text_forms_is_a_duplicate(frames):
    events = frames["handset_events"].astype(str)
    events.loc[3, "event_date"] = "2024-02-10 00:00:00"  # subscriber 3 seen on 2024-02-10 twice
    frames["handset_events"] = events
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("handset_events", "subscriber_id, event_date", "duplicate_key")}


def test_value_not_allowed(frames):
    frames["vas_orders"].loc[1, "channel"] = "carrier_pigeon"
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("vas_orders", "channel", "not_allowed")}
    assert problem["examples"] == ["carrier_pigeon"]
    assert "must be one of" in problem["expected"]


def test_negative_value(frames):
    frames["vas_products"].loc[0, "monthly_fee"] = -3.0
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("vas_products", "monthly_fee", "below_min")}


def test_value_above_maximum(frames):
    frames["subscribers"]["age"] = pd.array([35, None, 140], dtype="Int64")
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("subscribers", "age", "above_max")}
    assert problem["examples"] == [140]


def test_date_after_snapshot(frames):
    frames["vas_orders"].loc[1, "event_date"] = pd.Timestamp("2024-07-01")
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("vas_orders", "event_date", "after_snapshot")}
    assert problem["examples"] == ["2024-07-01"]
    assert "2024-06-30" in problem["expected"]


def test_date_on_snapshot_day_is_allowed(frames):
    frames["vas_orders"].loc[1, "event_date"] = pd.Timestamp("2024-06-30 18:00")
    assert load(frames, as_of=AS_OF).vas_orders["event_date"].max() == pd.Timestamp("2024-06-30 18:00")


def test_far_future_sentinel_date_is_after_snapshot_not_a_wrong_type(tmp_path, frames):
    frames["subscribers"]["join_date"] = ["2020-01-05", "2999-12-31", "2024-02-10"]
    problem = single_problem(write_province(tmp_path / "csv", frames, fmt="csv"))
    assert problem_keys([problem]) == {("subscribers", "join_date", "after_snapshot")}
    assert problem["examples"] == ["2999-12-31"]


def test_default_snapshot_is_today(frames):
    tomorrow = pd.Timestamp(dt.date.today() + dt.timedelta(days=1))
    frames["handset_events"].loc[3, "event_date"] = tomorrow
    problem = single_problem(frames, as_of=None)
    assert problem["check"] == "after_snapshot"
    assert load(frames, as_of=tomorrow).as_of == tomorrow


@pytest.mark.parametrize(("child", "column", "value"), [
    ("monthly_usage", "subscriber_id", 99),
    ("vas_orders", "product_id", "XX99"),
    ("handset_events", "handset_model", "iPhone"),
])
def test_orphan_foreign_keys(frames, child, column, value):
    frame = frames[child]
    frame.loc[len(frame) - 1, column] = value
    problem = single_problem(frames)
    assert problem_keys([problem]) == {(child, column, "orphan_key")}
    assert problem["examples"] == [value] and problem["rows"] == [len(frame) - 1]


def test_orphan_branch_of_a_subscriber(frames):
    frames["subscribers"].loc[2, "branch_id"] = "beijing"
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("subscribers", "branch_id", "orphan_key")}
    assert "branches.branch_id" in problem["expected"]


def test_missing_table(frames):
    del frames["handset_models"]
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("handset_models", None, "missing_table")}


def test_missing_table_in_folder_names_the_expected_files(province_dir):
    (province_dir / "branches.parquet").unlink()
    with pytest.raises(DataValidationError, match=r"branches: missing_table .*branches\.parquet"):
        load(province_dir, as_of=AS_OF)


def test_table_subset_checks_foreign_keys_within_the_subset_only(frames):
    subset = {name: frames[name] for name in ("subscribers", "monthly_usage")}
    subset["subscribers"].loc[0, "branch_id"] = "beijing"  # branches not loaded: not checked
    province = load(subset, as_of=AS_OF, tables=["monthly_usage", "subscribers"])
    assert list(province) == ["subscribers", "monthly_usage"]
    subset["monthly_usage"].loc[0, "subscriber_id"] = 42  # subscribers loaded: checked
    problem = single_problem(subset, tables=["subscribers", "monthly_usage"])
    assert problem_keys([problem]) == {("monthly_usage", "subscriber_id", "orphan_key")}


def test_unreadable_file(province_dir):
    (province_dir / "vas_orders.parquet").write_bytes(b"this is not parquet")
    problem = single_problem(province_dir)
    assert (problem["table"], problem["check"]) == ("vas_orders", "unreadable")


@pytest.mark.parametrize("content", ["", "10,1,MN01\n11,1,MN01\n"])  # empty; no header row
def test_csv_without_any_model_column_is_one_unreadable_problem(province_dir, content):
    (province_dir / "vas_orders.parquet").unlink()
    (province_dir / "vas_orders.csv").write_text(content)
    problem = single_problem(province_dir)
    assert (problem["table"], problem["column"], problem["check"]) == ("vas_orders", None, "unreadable")
    assert "no header row" in problem["expected"]


def test_wrong_type_key_is_not_also_reported_as_orphan(frames):
    usage = frames["monthly_usage"].astype({"subscriber_id": object})
    usage.loc[0, "subscriber_id"] = "abc"
    frames["monthly_usage"] = usage
    problem = single_problem(frames)
    assert problem_keys([problem]) == {("monthly_usage", "subscriber_id", "wrong_type")}


# ---------------------------------------------------- one error for all of it
def test_broken_extract_raises_one_error_naming_all_four_problems(tmp_path, frames):
    frames["subscribers"] = pd.concat([frames["subscribers"], frames["subscribers"].iloc[[1]]], ignore_index=True)
    frames["monthly_usage"].loc[2, "voice_minutes"] = -12.5
    frames["monthly_usage"].loc[5, "subscriber_id"] = 777
    frames["vas_products"] = frames["vas_products"].drop(columns="monthly_fee")
    folder = write_province(tmp_path / "broken", frames)
    result = None
    with pytest.raises(DataValidationError, match="4 problems") as info:
        result = load(folder, as_of=AS_OF)
    assert result is None
    assert problem_keys(info.value.problems) == {
        ("vas_products", "monthly_fee", "missing_column"),
        ("subscribers", "subscriber_id", "duplicate_key"),
        ("monthly_usage", "voice_minutes", "below_min"),
        ("monthly_usage", "subscriber_id", "orphan_key"),
    }
    message = str(info.value)
    for text in ("vas_products.monthly_fee: missing_column", "subscribers.subscriber_id: duplicate_key, 2 rows",
                 "monthly_usage.voice_minutes: below_min, 1 row", "-12.5",
                 "monthly_usage.subscriber_id: orphan_key, 1 row", "777"):
        assert text in message
    assert isinstance(info.value, ValueError)


def test_validate_reports_without_raising(frames):
    frames["subscribers"].loc[0, "brand"] = "unicom"
    frames["vas_orders"].loc[0, "event_date"] = pd.Timestamp("2030-01-01")
    report = validate(frames, AS_OF)
    assert isinstance(report, Report) and not report.ok
    assert [p.check for p in report.problems] == ["not_allowed", "after_snapshot"]
    assert report.row_counts["subscribers"] == 3
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ok"] is False and data["as_of"] == AS_OF
    assert data["problems"][0] == {
        "table": "subscribers", "column": "brand", "check": "not_allowed", "count": 1,
        "examples": ["unicom"], "rows": [0], "expected": "must be one of ['gotone', 'mzone', 'easyown']",
    }


def test_report_of_a_valid_extract(frames):
    frames["branches"]["region"] = "north"
    report = validate(frames, AS_OF)
    assert report.ok and report.problems == ()
    assert dict(report.extra_columns) == {"branches": ("region",)}
    text = report.format("en")
    assert "OK: 7 tables valid" in text and "subscribers 3" in text and "region" in text


def test_report_format_lists_every_problem(frames):
    frames["subscribers"].loc[0, "gender"] = "X"
    del frames["handset_events"]
    text = validate(frames, AS_OF).format("en")
    assert "FAILED: 2 problems" in text
    assert "handset_events" in text and "missing table" in text
    assert "gender" in text and "value not allowed" in text and " X" in text
    assert "校验失败" in validate(frames, AS_OF).format("zh")


def test_report_details_are_in_the_readers_language(frames, tmp_path):
    """What a table- or column-level problem expected is worded from the catalogue: a Chinese report of a
    missing table and a missing column holds no English phrase, and the error a load raises reads the same."""
    from workbench.errors import error_text

    frames["monthly_usage"] = frames["monthly_usage"].drop(columns=["arpu"])
    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    (folder / "handset_events.csv").unlink()
    report = validate(folder, AS_OF)
    zh, en = report.format("zh"), report.format("en")
    arpu_line = next(line for line in zh.splitlines() if "arpu" in line)
    assert "应有 handset_events.parquet" in zh and "应有" in arpu_line and "类型的列 'arpu'" in arpu_line
    for english in ("expected", "a column", "of type", "Parquet parts"):
        assert english not in zh
    assert "expected handset_events.parquet" in en and "a column 'arpu' of type" in en
    with pytest.raises(DataValidationError) as caught:
        load(folder, as_of=AS_OF)
    assert error_text(caught.value, "zh").count("应有") == zh.count("应有")
    assert "a column 'arpu'" in str(caught.value)  # the raised message and JSON stay English


def test_problem_kinds_have_labels():
    from workbench.i18n import t

    for name in CHECKS:
        assert t(f"data.check.{name}", "en") and t(f"data.check.{name}", "zh")


# --------------------------------------------------------------- bad inputs
def test_bad_as_of_is_a_parameter_error(frames):
    with pytest.raises(ParameterError, match="'as_of' parameter must be a date"):
        load(frames, as_of="30/06/2024")


def test_unknown_table_selection_is_a_parameter_error(frames):
    with pytest.raises(ParameterError, match="'tables' parameter .* Got \\['subscriber'\\]"):
        load(frames, as_of=AS_OF, tables=["subscriber"])


def test_missing_source_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a folder"):
        load(tmp_path / "nowhere", as_of=AS_OF)


def test_a_value_that_is_not_a_dataframe(frames):
    frames["branches"] = [("urumqi",)]
    with pytest.raises(ParameterError, match=r"source\['branches'\].*DataFrame.*list"):
        load(frames, as_of=AS_OF)


# -------------------------------------------------------------------- save
def test_save_writes_parquet_that_loads_back(tmp_path, frames):
    province = load(frames, as_of=AS_OF)
    folder = save(province, tmp_path / "out" / "province")
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.parquet" for n in REQUIRED_TABLES)
    again = load(folder, as_of=AS_OF)
    for name in REQUIRED_TABLES:
        pd.testing.assert_frame_equal(again[name], province[name])
    assert [p.name for p in folder.parent.iterdir()] == ["province"]  # no temporary folder left


def test_save_refuses_a_non_empty_folder_unless_overwrite(tmp_path, frames):
    folder = save({"branches": frames["branches"]}, tmp_path / "p")
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        save(frames, folder)
    save(frames, folder, overwrite=True)
    assert len(list(folder.iterdir())) == len(REQUIRED_TABLES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_save_never_replaces_a_folder_with_other_files(tmp_path, frames):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(ParameterError, match=r"only data-model tables.*notes\.txt"):
        save(frames, folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "keep me"


def test_save_rejects_unknown_tables(tmp_path, frames):
    with pytest.raises(ParameterError, match=r"'table names' parameter .*\['scores'\]"):
        save({"scores": frames["branches"]}, tmp_path / "p")
    assert not (tmp_path / "p").exists()


# ---------------------------------------------------------- CSV encodings
def test_gbk_csv_tables_are_read_through_a_utf8_copy_beside_them(tmp_path, frames):
    from workbench.data.source import UTF8_FOLDER, connect

    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    frames["branches"].to_csv(folder / "branches.csv", index=False, encoding="gbk")  # as Chinese Excel saves it
    expected = load(province_frames(), as_of=AS_OF)
    pd.testing.assert_frame_equal(load(folder, as_of=AS_OF)["branches"], expected["branches"], check_exact=True)
    copy = folder / UTF8_FOLDER / "branches.csv"
    made = copy.stat().st_mtime_ns
    con = connect(folder)                                 # the feature path reads the same copy
    names = sorted(r[0] for r in con.sql("SELECT name_zh FROM branches").fetchall())
    assert names == sorted(frames["branches"]["name_zh"])
    con.close()
    assert copy.stat().st_mtime_ns == made                # converted once while the original is unchanged
    changed = frames["branches"].assign(name_zh=frames["branches"]["name_zh"] + "分公司")
    changed.to_csv(folder / "branches.csv", index=False, encoding="gbk")
    assert load(folder, as_of=AS_OF)["branches"]["name_zh"].tolist() == changed["name_zh"].tolist()


def test_gbk_csv_with_a_bad_byte_further_on_names_the_table_and_the_byte(tmp_path, frames):
    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    row = "x,乌鲁木齐,Urumqi,true\n" * 80_000                 # > 1 MB of GBK before the bad byte
    (folder / "branches.csv").write_bytes(("branch_id,name_zh,name_en,is_capital\n" + row).encode("gbk") + b"y,\xff\n")
    with pytest.raises(ParameterError, match=r"Table 'branches' \(branches.csv\) is neither UTF-8 nor GB18030.*xff"):
        load(folder, as_of=AS_OF)


def test_gbk_csv_whose_copy_cannot_be_written_says_how_to_convert_it(tmp_path, frames):
    from workbench.data.source import UTF8_FOLDER

    folder = write_province(tmp_path / "csv", frames, fmt="csv")
    frames["branches"].to_csv(folder / "branches.csv", index=False, encoding="gbk")
    (folder / UTF8_FOLDER).write_text("in the way")       # no folder can be made there
    with pytest.raises(ParameterError, match=r"UTF-8 copy cannot be written .*iconv -f GB18030 -t UTF-8 branches.csv"):
        load(folder, as_of=AS_OF)


def test_utf16_csv_is_unreadable_with_duckdbs_reason(province_dir, frames):
    (province_dir / "branches.parquet").unlink()
    frames["branches"].to_csv(province_dir / "branches.csv", index=False, encoding="utf-16")  # Excel "Unicode text"
    problem = single_problem(province_dir)
    assert (problem["table"], problem["check"]) == ("branches", "unreadable")
    assert "not utf-8 encoded" in problem["expected"]
