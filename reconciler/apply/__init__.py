"""A plan carried out on an engine: preflight, steps, readiness, undo, images, certificates,
signals, progress, the lock.

May import: engine, config, core, image, errors, ui.
"""
