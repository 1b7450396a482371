"""CarrierCoop benchmarks: `python -m benchmarks [NAME ...]` (or `make bench`).

Each benchmark is a module exposing `run(config) -> int` and is listed in `__main__.BENCHMARKS`;
a non-zero result means the figures are not valid (errors, failed start-up).
"""
