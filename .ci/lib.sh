#!/usr/bin/env bash
# Shared by the .ci scripts (sourced, not run).

# install_missing PACKAGE...: apt-get install the packages dpkg does not report installed.
# Others may run apt on this machine at the same time: wait for the dpkg lock.
install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=300 update -qq
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# install_runc_wrapper DEST [--drop-rlimits]: the sandbox's runc wrapper
# (.ci/runc-wrapper.py, copied to DEST.py) behind a sh front at DEST. Only create/run/exec
# hand runc a spec to rewrite; every other call (start, state, kill, delete, --version:
# most of them) goes straight to runc, because starting Python costs ~20 ms a call,
# several calls per container start, which benchmarks would count and no real machine has.
install_runc_wrapper() {
    local dest=$1 flag=${2:-}
    mkdir -p "$(dirname "$dest")"
    cp "$(dirname "${BASH_SOURCE[0]}")/runc-wrapper.py" "$dest.py.tmp"
    cat > "$dest.tmp" <<FRONT
#!/bin/sh
# runc wrapper installed by booth-reconciler's .ci scripts (see $dest.py).
for arg in "\$@"; do
    case \$arg in
        create | run | exec) exec /usr/bin/python3 -I -S $dest.py $flag "\$@" ;;
    esac
done
exec /usr/sbin/runc "\$@"
FRONT
    chmod 755 "$dest.tmp"
    mv "$dest.py.tmp" "$dest.py"
    mv "$dest.tmp" "$dest"
}
