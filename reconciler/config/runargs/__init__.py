"""docker run's flag grammar: words -> typed container fields (run-args, common-args, the command
line).

Pure. May import: core, config's readers, errors.
"""
