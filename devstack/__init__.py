"""The local development stack: servers on loopback for tests and the benchmark, the scaled
profile, the web page server, and the launcher behind `make run`, `make shell` and `make run-scaled`.
"""
