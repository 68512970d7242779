"""Rasa serving internals the project replaces: the tracker store, the lock stores and the
custom-action call. Each is listed, with its canary test, in docs/RASA_OVERRIDES.md.
"""
