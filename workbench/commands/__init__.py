"""Command-line nouns; see :mod:`workbench.cli`."""
