"""Benchmark harness: a data generator, hand-written "floor" endpoints and a wrk driver.

Run it as ``python -m pinzhi.bench --scale 1 --database-url postgres://…`` (see
docs/PERFORMANCE.md). It is not part of the test suite.
"""
