"""The corpus programs are scripts run by test_corpus.py, not test modules to collect."""

collect_ignore_glob = ["programs/*"]
