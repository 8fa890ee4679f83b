"""The one DuckDB connection helper of the data layer (workbench.data.source.connection)."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from workbench.data.source import connect, connection

FRAMES = {"subscribers": pd.DataFrame({"subscriber_id": [1, 2]})}


def _progress_bar(con) -> bool:
    return bool(con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0])


def test_connection_closes_what_it_opens_and_sets_the_progress_bar():
    for progress in (True, False):
        with connection(FRAMES, progress=progress) as con:
            assert con.execute("SELECT count(*) FROM subscribers").fetchall() == [(2,)]
            assert _progress_bar(con) is progress
        with pytest.raises(duckdb.ConnectionException):
            con.execute("SELECT 1")


def test_an_open_connection_is_used_as_it_is_and_stays_open():
    outer = connect(FRAMES)
    before = _progress_bar(outer)
    try:
        with connection(outer, progress=not before) as inner:
            assert inner is outer
        assert _progress_bar(outer) is before   # its settings untouched
        assert outer.execute("SELECT count(*) FROM subscribers").fetchall() == [(2,)]   # not closed
    finally:
        outer.close()


def test_a_missing_source_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        with connection(tmp_path / "nowhere"):
            pass


def test_missing_tables_are_named_with_who_needs_them():
    from workbench.data.source import require_tables
    from workbench.errors import DataValidationError

    with connection(FRAMES) as con:
        require_tables(con, ["subscribers"], "x")
        with pytest.raises(DataValidationError, match=r"plan needs the tables \['subscribers', 'vas_orders'\]; "
                                                      r"the source lacks \['vas_orders'\]") as info:
            require_tables(con, ["subscribers", "vas_orders"], "plan")
    assert [p["table"] for p in info.value.problems] == ["vas_orders"]
