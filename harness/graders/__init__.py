"""Graders: pure functions from (response, reference) to a Verdict with its reason."""
