"""Everything that reads the synthetic province's ground truth: the campaign simulator, truth checks
and benchmarks against the truth.

Evaluation code (``workbench.tracking``) never imports this package, so nothing an analyst
measures on real data can depend on a truth that real data does not have.
"""
