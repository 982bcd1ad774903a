"""ssp-harness: reproducible evaluation and compact training stages for small reasoning models."""

__version__ = "0.1.0"
