"""The prose of ``booth --help``: the examples and the longer descriptions of commands
(kept apart from the parser so ``cli/main.py`` stays about arguments and exit codes)."""

EPILOG = """\
examples:
  booth plan --offline                 show what apply would create, without Docker
  booth -C examples/dind-example apply -p 5000:5000
  booth plan --json --detailed-exitcode   (exit 2 when changes are pending)
  booth apply --pull                   pull the images again; replace what runs an older one
  booth status
  booth destroy --volumes
  booth run -- bash -l
  booth exec                           a login shell in the running booth

without a command, booth reads CodingBooth's command line and runs its session:
  booth                                (as coding-booth in the project folder)
  booth -- 'python --version'          (the command in a login shell, stdin passed)
  booth -p 5000:5000 --variant ide     (--daemon applies and returns, --dryrun prints
                                        the docker commands; CB_* variables apply)
see docs/migrating-from-codingbooth.md
"""

RUN_DESCRIPTION = """\
Apply, attach to the booth's main process until it exits, then remove the booth and the
sidecar (and the network if this run created it; the data volume stays). The exit code
is the booth's.

With a terminal on stdin this is `docker run -it`: the booth gets a TTY and an open
stdin (as with --run-arg=-t --run-arg=-i), the terminal is raw and its size follows the
window. Ctrl-C is then a key for the booth (it interrupts the booth's foreground
program, as in docker run -it); the session ends when the booth's main process does, or
on SIGTERM/SIGHUP (exit 130). Without a terminal, the booth's output is followed (its
stdout and stderr to ours) and it gets no stdin, unless -i is given (docker run -i):
then stdin is copied to the booth and closed at its end. Ctrl-C ends the session (exit
130). The command after -- is run as given (an argv, as docker run runs it); `booth --
WORDS` (CodingBooth's command line) runs WORDS in a login shell instead.
"""


RENDER_DESCRIPTION = """\
Print the same desired graph for another platform, without contacting an engine.

kubernetes: multi-document YAML (a ClusterIP Service with exactly the declared ports, and
a StatefulSet of one Pod: the DinD sidecar as a native sidecar with a startup probe, the
booth in the Pod's network namespace, a claim for the inner daemon's data when
keep-dind-data). Apply with `booth render kubernetes | kubectl apply --server-side -f -`;
docs/kubernetes.md says what maps to what.
"""
