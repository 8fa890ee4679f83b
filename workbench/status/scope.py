"""Scope checks against the data: stop a template in its parameters cell, before any computation.

:func:`workbench.status.check_scope` checks that the parameters are well formed (a product family, a
month, branch ids); with ``data`` it also calls :func:`check_data_scope`, which checks them against the
province's data: the snapshot month lies within the months of the data and has orders, every branch
exists in the data, and the product has orders.  Each failure is one clear message in the current
language (``errors.scope.*``) giving the valid range.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.errors import ParameterError

__all__ = ["DataScope", "data_scope", "check_data_scope"]


@dataclass(frozen=True)
class DataScope:
    """What the data cover.

    Attributes
    ----------
    first_month, last_month : str or None
        ``YYYY-MM`` of the first and last month of ``monthly_usage`` (None when it is empty).
    order_months : tuple of str
        The months with at least one VAS order.
    branches : tuple of str
        Branch ids of the subscribers.
    families : tuple of str
        Product families with at least one order.
    """

    first_month: str | None
    last_month: str | None
    order_months: tuple[str, ...]
    branches: tuple[str, ...]
    families: tuple[str, ...]


def data_scope(data) -> DataScope:
    """The months, branches and ordered product families of ``data`` (anything :func:`workbench.data.connect`
    takes), read with DuckDB."""
    from workbench.data.source import connection

    with connection(data, progress=False) as con:
        first, last = con.execute(
            "SELECT strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m') FROM monthly_usage").fetchall()[0]
        months = [r[0] for r in con.execute(
            "SELECT DISTINCT strftime(event_date, '%Y-%m') AS m FROM vas_orders WHERE event_type = 'order' "
            "ORDER BY m").fetchall()]
        branches = [r[0] for r in con.execute(
            "SELECT DISTINCT branch_id FROM subscribers ORDER BY branch_id").fetchall()]
        families = [r[0] for r in con.execute(
            "SELECT DISTINCT p.family FROM vas_orders o JOIN vas_products p USING (product_id) "
            "WHERE o.event_type = 'order' ORDER BY p.family").fetchall()]
    return DataScope(first, last, tuple(months), tuple(branches), tuple(families))


def check_data_scope(data, product: str, snapshot: str, branches: Sequence[str] = ()) -> DataScope:
    """Check a template's scope against the data; return what the data cover.

    Parameters
    ----------
    data
        The province's data.
    product : str
        A product family (checked to be well formed by :func:`workbench.status.check_scope`).
    snapshot : "YYYY-MM"
    branches : sequence of str
        Branch ids; empty for the whole province.

    Raises
    ------
    ParameterError
        A snapshot outside the months of the data or in a month without orders, a branch the data do
        not hold, a product without orders - each with the valid range, in the current language.
    """
    scope = data_scope(data)
    where = str(getattr(data, "path", data)) if not isinstance(data, dict) else "data"
    if scope.first_month is None:
        raise ParameterError.from_key("errors.scope.no_data", data=where)
    if not scope.first_month <= snapshot <= scope.last_month:
        raise ParameterError.from_key("errors.scope.snapshot", snapshot=snapshot, data=where,
                                      first=scope.first_month, last=scope.last_month)
    if snapshot not in scope.order_months:
        first, last = (scope.order_months[0], scope.order_months[-1]) if scope.order_months else ("-", "-")
        raise ParameterError.from_key("errors.scope.no_orders", snapshot=snapshot, first=first, last=last)
    unknown = [b for b in branches if b not in scope.branches]
    if unknown:
        raise ParameterError.from_key("errors.scope.branches", unknown=", ".join(unknown),
                                      known=", ".join(scope.branches))
    if product not in scope.families:
        raise ParameterError.from_key("errors.scope.product", product=product, known=", ".join(scope.families))
    return scope
