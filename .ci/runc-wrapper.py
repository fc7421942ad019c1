# runc wrapper for this sandbox, installed by booth-reconciler's .ci scripts (lib.sh,
# install_runc_wrapper) and run by its sh front only for the runc calls that carry a spec
# (create, run, exec). The host's capability bounding set lacks CAP_SYS_RESOURCE, so runc
# cannot grant it to privileged containers or their execs: strip it from the OCI spec
# files runc is given (the bundle's config.json for create/run, the --process file for
# exec). With --drop-rlimits (Podman, which asks for rlimits above this host's hard
# limits) drop the process's rlimits too. Then exec the real runc with the same arguments.
import json
import os
import sys

REAL_RUNC = "/usr/sbin/runc"
CAP = "CAP_SYS_RESOURCE"

args = sys.argv[1:]
drop_rlimits = bool(args) and args[0] == "--drop-rlimits"
if drop_rlimits:
    args = args[1:]


def option_values(names):
    """Values of options like --bundle DIR, -b DIR, --bundle=DIR."""
    out = []
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            out.append(args[i + 1])
        out += [arg.split("=", 1)[1] for n in names if n.startswith("--") and arg.startswith(n + "=")]
    return out


def rewrite(path, process_of):
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError):
        return  # not ours to judge; let runc report it
    process = process_of(spec)
    if not isinstance(process, dict):
        return
    for kind, caps in (process.get("capabilities") or {}).items():
        if isinstance(caps, list):
            process["capabilities"][kind] = [c for c in caps if c != CAP]
    if drop_rlimits:
        process.pop("rlimits", None)
    tmp = path + ".booth-tmp"
    with open(tmp, "w") as f:
        json.dump(spec, f)
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)


command = next((a for a in args if a in ("create", "run", "exec")), None)
if command in ("create", "run"):
    for bundle in option_values(("--bundle", "-b")):
        rewrite(os.path.join(bundle, "config.json"), lambda spec: spec.get("process"))
elif command == "exec":
    for process_file in option_values(("--process", "-p")):
        rewrite(process_file, lambda spec: spec)

os.execv(REAL_RUNC, [REAL_RUNC] + args)
