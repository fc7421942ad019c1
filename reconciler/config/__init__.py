"""What the user wrote (config file, CB_* variables, flags) -> a validated BoothConfig -> the
desired graph.

Reads files, never an engine. May import: core, image, errors, ui.
"""
