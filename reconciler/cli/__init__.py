"""Words in, exit code out: the parser, the commands, CodingBooth's session words, completion.

May import: everything.
"""
