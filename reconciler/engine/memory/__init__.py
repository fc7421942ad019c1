"""An engine in memory, verified against the real ones by one contract suite.

May import: engine, core, errors.
"""
