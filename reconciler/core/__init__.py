"""The pure value model and the diff: resources, ports, the inner daemon's address, desired x
actual -> plan.

Pure: no file, no engine, no clock. May import: errors.
"""
