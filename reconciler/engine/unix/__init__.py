"""The Docker Engine API on a local socket without the SDK: the fast path.

May import: engine, core, errors, ui.
"""
