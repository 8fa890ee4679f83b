"""Tests of workbench.data.schemas: pandera schemas built from the data model."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.errors as pa_errors
import pytest
from pandera.engines import pandas_engine

from workbench.data.schemas import (
    PANDAS_DTYPES, SCHEMA_CHECKS, pandas_dtype, resolve_as_of, schema_for, schemas,
)
from workbench.data.tables import TABLE_ORDER, TABLES, Column
from workbench.errors import ParameterError

AS_OF = "2024-06-30"


def branches(**overrides) -> pd.DataFrame:
    data = {"branch_id": ["urumqi", "hami"], "name_zh": ["乌鲁木齐", "哈密"], "name_en": ["Urumqi", "Hami"],
            "is_capital": [True, False]}
    data.update(overrides)
    return pd.DataFrame(data)


def failures(schema, frame) -> set[tuple]:
    """(column, check name) of every failure of a lazy validation."""
    with pytest.raises(pa_errors.SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    return {(e.column_name, getattr(e.check, "name", e.check)) for e in info.value.schema_errors}


def failing_values(schema, frame) -> dict[str, list]:
    """check name -> failing values of a lazy validation."""
    with pytest.raises(pa_errors.SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    out: dict[str, list] = {}
    for e in info.value.schema_errors:
        if isinstance(e.failure_cases, pd.DataFrame):
            values = e.failure_cases["failure_case"].dropna().tolist()
            out.setdefault(getattr(e.check, "name", e.check), []).extend(values)
    return out


# ---------------------------------------------------------- built from tables
@pytest.mark.parametrize("name", TABLE_ORDER)
def test_schema_has_every_column_of_the_data_model(name):
    schema = schema_for(name, AS_OF)
    spec = TABLES[name]
    assert list(schema.columns) == spec.column_names
    assert schema.strict is False and schema.name == name
    for column in spec.columns:
        built = schema.columns[column.name]
        assert built.coerce is True
        assert built.nullable == column.nullable
        assert built.dtype.check(pandas_engine.Engine.dtype(pandas_dtype(column)))
        names = [c.name for c in built.checks]
        assert ("not_allowed" in names) == (column.allowed is not None)
        assert ("below_min" in names) == (column.min is not None)
        assert ("above_max" in names) == (column.max is not None)
        assert ("after_snapshot" in names) == column.not_after_snapshot
    assert set(n for c in schema.columns.values() for n in (k.name for k in c.checks)) <= set(SCHEMA_CHECKS)


@pytest.mark.parametrize("name", TABLE_ORDER)
def test_primary_key_is_unique(name):
    schema = schema_for(name, AS_OF)
    key = list(TABLES[name].primary_key)
    if len(key) == 1:
        assert schema.columns[key[0]].unique is True and not schema.unique
    else:
        assert schema.unique == key
        assert not any(c.unique for c in schema.columns.values())


def test_schemas_builds_every_table_in_load_order():
    built = schemas(AS_OF)
    assert list(built) == list(TABLE_ORDER)
    assert list(schemas(AS_OF, tables=["subscribers"])) == ["subscribers"]


def test_pandas_dtypes():
    assert pandas_dtype(Column("a", "int", "")) == "int64"
    assert pandas_dtype(Column("a", "int", "", nullable=True)) == "Int64"
    assert pandas_dtype(Column("a", "bool", "", nullable=True)) == "boolean"
    assert set(PANDAS_DTYPES) == {"str", "int", "float", "bool", "date"}
    with pytest.raises(ParameterError, match="dtype of column a.*Got 'decimal'"):
        pandas_dtype(Column("a", "decimal", ""))


def test_unknown_table():
    with pytest.raises(KeyError, match="unknown table 'subscriber'"):
        schema_for("subscriber")


# ------------------------------------------------------------------ coercion
def test_text_is_converted_to_the_declared_types():
    frame = pd.DataFrame({
        "subscriber_id": ["1", "2"], "msisdn": ["13800000001", "13800000002"], "branch_id": ["urumqi", "hami"],
        "brand": ["gotone", "mzone"], "tariff_plan": ["0058", "M18"], "join_date": ["2020-01-05", "2021-02-03"],
        "age": ["35.0", None], "gender": ["M", None], "rejoined": ["False", "t"],
    }, dtype="str")
    out = schema_for("subscribers", AS_OF).validate(frame, lazy=True)
    assert out["subscriber_id"].tolist() == [1, 2] and out["subscriber_id"].dtype == "int64"
    assert out["age"].dtype == "Int64" and out["age"].tolist() == [35, pd.NA]
    assert out["rejoined"].dtype == bool and out["rejoined"].tolist() == [False, True]
    assert out["join_date"].dtype == "datetime64[us]"
    assert out["tariff_plan"].tolist() == ["0058", "M18"]


def test_numbers_are_converted_to_text_for_text_columns():
    out = schema_for("branches", AS_OF).validate(branches(branch_id=[1, 2]))
    assert out["branch_id"].tolist() == ["1", "2"] and out["branch_id"].dtype == "str"


def test_bool_conversion_is_strict():
    schema = schema_for("branches", AS_OF)
    out = schema.validate(branches(is_capital=["false", "TRUE"]))
    assert out["is_capital"].tolist() == [False, True]  # plain astype(bool) would give [True, True]
    assert failing_values(schema, branches(is_capital=["false", "sometimes"]))["dtype('bool')"] == ["sometimes"]


def test_uncoercible_int_is_a_type_failure():
    frame = pd.DataFrame({"event_id": ["1", "2x"], "subscriber_id": [1, 1], "product_id": ["A", "A"],
                          "event_date": ["2024-01-01", "2024-01-02"], "event_type": ["order", "order"],
                          "channel": ["sms", "sms"]})
    with pytest.raises(pa_errors.SchemaErrors) as info:
        schema_for("vas_orders", AS_OF).validate(frame, lazy=True)
    cases = info.value.failure_cases
    assert set(cases.loc[cases["column"] == "event_id", "failure_case"]) == {"2x"}


def test_extra_columns_are_kept():
    out = schema_for("branches", AS_OF).validate(branches(region=["north", "east"]))
    assert out["region"].tolist() == ["north", "east"]


# -------------------------------------------------------------------- checks
def test_missing_column_and_missing_values():
    frame = branches(name_en=[None, "Hami"]).drop(columns="name_zh")
    assert failures(schema_for("branches", AS_OF), frame) == {(None, "column_in_dataframe"),
                                                             ("name_en", "not_nullable")}


def test_allowed_values_and_bounds():
    frame = pd.DataFrame({
        "product_id": ["A", "B"], "family": ["mobile_newspaper", "lottery"], "name_zh": ["甲", "乙"],
        "name_en": ["A", "B"], "content_category": [None, "weather"], "edition": [None, None],
        "monthly_fee": [-1.0, 2.0], "free_months": [0, 1], "required_capability": [None, "mms"],
    })
    assert failures(schema_for("vas_products", AS_OF), frame) == {
        ("family", "not_allowed"), ("content_category", "not_allowed"), ("monthly_fee", "below_min"),
    }


def test_age_bounds_ignore_missing_values():
    frame = pd.DataFrame({
        "subscriber_id": [1, 2, 3], "msisdn": ["1", "2", "3"], "branch_id": ["a", "a", "a"],
        "brand": ["gotone"] * 3, "tariff_plan": ["x"] * 3, "join_date": ["2020-01-01"] * 3,
        "age": [9, None, 101], "gender": [None] * 3, "rejoined": [False] * 3,
    })
    assert failing_values(schema_for("subscribers", AS_OF), frame) == {"below_min": [9], "above_max": [101]}


def test_dates_not_after_the_snapshot():
    schema = schema_for("handset_events", AS_OF)
    frame = pd.DataFrame({"subscriber_id": [1, 2, 3], "imei": ["a", "b", "c"], "handset_model": ["m"] * 3,
                          "event_date": ["2024-06-30", "2024-06-30 23:59:59", "2024-07-01"]})
    assert failing_values(schema, frame) == {"after_snapshot": [pd.Timestamp("2024-07-01")]}
    assert schema_for("handset_events", "2024-07-01").validate(frame)["event_date"].max() == pd.Timestamp("2024-07-01")


def test_duplicate_composite_key():
    frame = pd.DataFrame({"subscriber_id": [1, 1, 2], "month": ["2024-05-01", "2024-05-01", "2024-05-01"]})
    for column in TABLES["monthly_usage"].columns[2:]:
        frame[column.name] = 0
    assert failures(schema_for("monthly_usage", AS_OF), frame) == {(None, "multiple_fields_uniqueness")}


# ------------------------------------------------------------------ snapshot
def test_resolve_as_of():
    assert resolve_as_of(None) == pd.Timestamp(dt.date.today())
    assert resolve_as_of("2024-06-30") == pd.Timestamp("2024-06-30")
    assert resolve_as_of(dt.datetime(2024, 6, 30, 15, 30)) == pd.Timestamp("2024-06-30")
    assert resolve_as_of(pd.Timestamp("2024-06-30 10:00", tz="Asia/Urumqi")) == pd.Timestamp("2024-06-30")
    for bad in ("30/06/2024", "yesterday", 20240630):
        with pytest.raises(ParameterError, match="'as_of' parameter must be a date such as '2024-06-30'"):
            resolve_as_of(bad)
