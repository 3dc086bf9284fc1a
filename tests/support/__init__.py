"""Helpers shared by the test suites (fakes at narrow seams, clocks, scaler start-up)."""
