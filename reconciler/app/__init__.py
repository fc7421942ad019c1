"""What each command does, over an engine: the workspace (apply, plan, destroy, status), sessions,
exec and logs, doctor, list.

May import: everything but cli.
"""
