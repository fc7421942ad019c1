#!/bin/sh
# Drift check: does the running booth still match its configuration?
#
#   drift-check.sh [-C DIR] [--config FILE] [other `booth plan` options]
#
# Runs `booth plan --detailed-exitcode` against the real Docker engine (not --offline) and
# passes its exit status on: 0 no drift (prints nothing, so cron mails only when there is
# something to say), 2 drift (prints the plan: what `booth apply` would do, e.g. a booth
# someone removed, a stopped sidecar, a changed config), 1 error (prints booth's message),
# 130 interrupted. It never changes anything; run `booth apply` to converge.
#
# Environment: BOOTH, the booth command (default: booth).
# Example crontab line (every 15 minutes, log everything, mail only on drift or error):
#   */15 * * * * /path/to/drift-check.sh -C /home/me/project >>/var/log/booth-drift.log 2>&1 || echo "booth drift: exit $?"
set -u

booth_cmd=${BOOTH:-booth}
if output=$("$booth_cmd" plan --detailed-exitcode "$@" 2>&1); then rc=0; else rc=$?; fi
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
case $rc in
    0) ;;
    2) echo "$stamp drift-check: DRIFT: the booth does not match its configuration; booth apply would:"
       printf '%s\n' "$output" ;;
    130) echo "$stamp drift-check: interrupted" ;;
    *) echo "$stamp drift-check: ERROR: booth plan failed with exit $rc:"
       printf '%s\n' "$output" ;;
esac
exit "$rc"
