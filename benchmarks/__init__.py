"""Speed benchmarks (pytest-benchmark) and the CI regression guard; run apart from the unit tests."""
