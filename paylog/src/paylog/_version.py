"""The paylog distribution's version (read by paylog/pyproject.toml); bump it with every change."""

__version__ = "0.2.0"
