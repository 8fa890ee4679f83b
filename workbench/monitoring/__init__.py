"""Model monitoring: reference distributions of a model's inputs and score, and drift (PSI) against
a new table.  Compute only: returns numbers and frames; nothing here draws or words them."""
from workbench.monitoring.drift import (
    ALERT,
    CATEGORICAL,
    EPSILON,
    FORMAT,
    MISSING,
    NUMERIC,
    OTHER,
    WATCH,
    bin_shares,
    build_reference,
    check_reference,
    check_table,
    check_thresholds,
    compare,
    psi,
    status_of,
)

__all__ = ["FORMAT", "EPSILON", "WATCH", "ALERT", "NUMERIC", "CATEGORICAL", "OTHER", "MISSING",
           "build_reference", "bin_shares", "psi", "status_of", "check_thresholds", "compare",
           "check_reference", "check_table"]
