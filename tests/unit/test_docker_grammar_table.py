"""Docker's own accept/reject decisions, row by row, each citing the source that makes it.

A row is (parser, input, expected, source): ``expected`` is the parsed value, ``ACCEPT``
when only acceptance is checked, or ``REJECT``. Sources (read from the docker/cli,
docker/go-connections, docker/go-units and moby trees):

- nat.go: go-connections nat/nat.go (ParsePortSpec, splitParts, SplitProtoPort,
  parsePortRange, parsePortNumber), v0.8.0 as vendored by the docker CLI
- run opts.go: docker CLI cli/command/container/opts.go (convertToStandardNotation,
  parseLinuxDevice, validateLinuxPath, validDeviceMode, --tmpfs)
- size.go: go-units size.go RAMInBytes/parseSize, v0.5.0 as vendored by the docker CLI
- ParseBool: Go strconv.ParseBool, used by pflag for boolean flags
- opts.go: docker CLI opts/opts.go ParseCPUs; env.go: opts/env.go ValidateEnv
- mount.go / mount_utils.go: docker CLI opts/mount.go MountOpt.Set, opts/mount_utils.go
- linux_parser.go: moby volume/mounts/linux_parser.go validateMountConfigImpl (daemon)
- booth: a deliberate difference, explained in the parser's docstring
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.config.runargs.mounts import parse_mount
from reconciler.config.runargs.runtime_values import (
    parse_expose,
    parse_gpus,
    parse_ipc,
    parse_pid,
    parse_restart,
    parse_sysctl,
    parse_ulimit,
)
from reconciler.config.runargs.values import (
    parse_bool,
    parse_capability,
    parse_cpus,
    parse_device,
    parse_env,
    parse_extra_host,
    parse_ip,
    parse_label,
    parse_security_opt,
    parse_size,
    parse_tmpfs,
)
from reconciler.core.ports import PortMapping, parse_port
from reconciler.core.volumes import VolumeSpec, split_volume
from reconciler.errors import ConfigError

ACCEPT = object()
REJECT = object()
W = "run-arg (test)"
K, M, G = 1 << 10, 1 << 20, 1 << 30


def port(spec: str, where: str) -> PortMapping:
    return parse_port(spec, default_host_ip="", source=where)


def pm(ip: str, host: int | None, container: int, proto: str = "tcp") -> PortMapping:
    return PortMapping(ip, host, host, container, container, proto)


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "port": port,
    "size": parse_size,
    "bool": parse_bool,
    "cpus": parse_cpus,
    "device": parse_device,
    "env": parse_env,
    "tmpfs": parse_tmpfs,
    "mount": parse_mount,
    "volume": split_volume,
    "cap": parse_capability,
    "label": parse_label,
    "dns": parse_ip,
    "add-host": parse_extra_host,
    "security-opt": parse_security_opt,
    "ulimit": parse_ulimit,
    "sysctl": parse_sysctl,
    "restart": parse_restart,
    "ipc": parse_ipc,
    "pid": parse_pid,
    "gpus": parse_gpus,
    "expose": parse_expose,
}

ROWS: list[tuple[str, str, object, str]] = [
    # --- ports: short syntax --------------------------------------------------------------
    ("port", "80", pm("", None, 80), "nat.go splitParts: one field is the container port"),
    ("port", "8080:80", pm("", 8080, 80), "nat.go splitParts: two fields"),
    ("port", "1.2.3.4:8080:80", pm("1.2.3.4", 8080, 80), "nat.go splitParts: three fields"),
    ("port", "1.2.3.4::80", pm("1.2.3.4", None, 80), "nat.go ParsePortSpec: empty hostPort"),
    ("port", "::1:8080:80", pm("::1", 8080, 80), "nat.go splitParts: ip is all but last two"),
    ("port", "fe80::1:8080:80", pm("fe80::1", 8080, 80), "nat.go splitParts: unbracketed IPv6"),
    ("port", "[::1]:8080:80", pm("::1", 8080, 80), "nat.go ParsePortSpec: SplitHostPort(ip+':')"),
    ("port", "[1.2.3.4]:8080:80", pm("1.2.3.4", 8080, 80), "nat.go ParsePortSpec: brackets"),
    ("port", "[]:8080:80", pm("", 8080, 80), "nat.go ParsePortSpec: empty ip is not checked"),
    ("port", ":8080:80", pm("", 8080, 80), "nat.go splitParts: empty ip field"),
    ("port", "::80", pm("", None, 80), "nat.go splitParts: empty ip and hostPort"),
    ("port", "08080:080", pm("", 8080, 80), "nat.go parsePortNumber: ParseInt base 10"),
    ("port", "+8080:80", REJECT, "go-connections <= v0.5 ParsePortRange: ParseUint, no sign"),
    ("port", "8080:+80", REJECT, "go-connections <= v0.5 ParsePortRange: ParseUint, no sign"),
    ("port", "8080:80/udp", pm("", 8080, 80, "udp"), "nat.go SplitProtoPort"),
    ("port", "8080:80/SCTP", pm("", 8080, 80, "sctp"), "nat.go ParsePortSpec: ToLower(proto)"),
    ("port", "8080:80/", pm("", 8080, 80), "nat.go SplitProtoPort: empty proto is tcp"),
    ("port", "0:80", pm("", None, 80), "nat.go parsePortNumber: 0 is in range (any port)"),
    ("port", "80-80", pm("", None, 80), "nat.go parsePortRange: start == end is one port"),
    (
        "port",
        "8000-8002:9000-9002",
        PortMapping("", 8000, 8002, 9000, 9002, "tcp"),
        "nat.go ParsePortSpec: equal ranges",
    ),
    (
        "port",
        "8000-8010:80",
        PortMapping("", 8000, 8010, 80, 80, "tcp"),
        "nat.go ParsePortSpec: host range, one container port",
    ),
    ("port", "8080:80/icmp", REJECT, "nat.go validateProto: tcp, udp, sctp"),
    ("port", "80/tcp/udp", REJECT, "nat.go SplitProtoPort: proto is all after the first /"),
    ("port", "/tcp", REJECT, "nat.go ParsePortSpec: no port specified"),
    ("port", "8080:", REJECT, "nat.go ParsePortSpec: no port specified"),
    ("port", "", REJECT, "nat.go ParsePortSpec: no port specified"),
    ("port", " 8080:80", REJECT, "nat.go parsePortNumber: ParseInt rejects spaces"),
    ("port", "8080:80 ", REJECT, "nat.go parsePortNumber: ParseInt rejects spaces"),
    ("port", "70000:80", REJECT, "nat.go parsePortNumber: out of range (0-65535)"),
    ("port", "8080:65536", REJECT, "nat.go parsePortNumber: out of range (0-65535)"),
    ("port", "-80", REJECT, "nat.go parsePortRange: empty start port"),
    ("port", "80-", REJECT, "nat.go parsePortRange: empty end port"),
    ("port", "90-80", REJECT, "nat.go parsePortRange: end before start"),
    ("port", "8000-8002:80-81", REJECT, "nat.go ParsePortSpec: invalid ranges"),
    ("port", "8080:80-81", REJECT, "nat.go ParsePortSpec: invalid ranges"),
    ("port", "1_000:80", REJECT, "nat.go parsePortNumber: no underscores in base 10"),
    ("port", "0x50:80", REJECT, "nat.go parsePortNumber: base 10 only"),
    ("port", "http:80", REJECT, "nat.go parsePortNumber: not a number"),
    ("port", "localhost:8080:80", REJECT, "nat.go ParsePortSpec: net.ParseIP"),
    ("port", "1:2:3:4", REJECT, "nat.go ParsePortSpec: net.ParseIP('1:2')"),
    ("port", "::1:80", REJECT, "nat.go ParsePortSpec: net.ParseIP(':')"),
    ("port", "fe80::1%eth0:8080:80", REJECT, "nat.go ParsePortSpec: net.ParseIP, no zones"),
    ("port", "[fe80::1%eth0]:8080:80", REJECT, "nat.go ParsePortSpec: net.ParseIP, no zones"),
    ("port", "[::1:8080:80", REJECT, "nat.go ParsePortSpec: SplitHostPort missing ']'"),
    ("port", "[::1]x:8080:80", REJECT, "nat.go ParsePortSpec: SplitHostPort"),
    ("port", "010.0.0.1:8080:80", REJECT, "nat.go ParsePortSpec: ParseIP, no leading zeros"),
    ("port", "8080:0", REJECT, "booth: container port 0 is refused"),
    # --- ports: long syntax ---------------------------------------------------------------
    ("port", "published=8080,target=80", pm("", 8080, 80), "run opts.go convertToStandardNotation"),
    (
        "port",
        "target=80,published=8080,protocol=udp",
        pm("", 8080, 80, "udp"),
        "run opts.go convertToStandardNotation",
    ),
    ("port", "target=80", pm("", None, 80), "run opts.go convertToStandardNotation: ':80/tcp'"),
    ("port", "published=8080", REJECT, "run opts.go convertToStandardNotation -> no port"),
    ("port", "published=8080,target", REJECT, "run opts.go convertToStandardNotation: k=v"),
    ("port", "=8080,target=80", REJECT, "run opts.go convertToStandardNotation: empty key"),
    (
        "port",
        "published=8080,target=80,host_ip=127.0.0.1",
        pm("127.0.0.1", 8080, 80),
        "booth: docker run ignores host_ip; booth honours it",
    ),
    ("port", "published=8080,target=80,mode=host", pm("", 8080, 80), "booth: mode=host"),
    ("port", "published=8080,target=80,mode=ingress", REJECT, "booth: ingress is swarm only"),
    ("port", "published=8080,target=80,Target=81", REJECT, "booth: docker ignores unknown keys"),
    # --- sizes ------------------------------------------------------------------------------
    ("size", "1024", 1024, "size.go parseSize: no suffix is bytes"),
    ("size", "1b", 1, "size.go parseSize: b suffix"),
    ("size", "1B", 1, "size.go parseSize: ToLower(suffix)"),
    ("size", "1k", K, "size.go RAMInBytes: binaryMap"),
    ("size", "1K", K, "size.go RAMInBytes: case-insensitive"),
    ("size", "1kb", K, "size.go parseSize: extra b"),
    ("size", "1KiB", K, "size.go parseSize: extra ib"),
    ("size", "512m", 512 * M, "size.go RAMInBytes"),
    ("size", "1.5g", 3 * G // 2, "size.go parseSize: ParseFloat"),
    ("size", ".5g", G // 2, "size.go parseSize: ParseFloat('.5')"),
    ("size", "5.", 5, "size.go parseSize: ParseFloat('5.')"),
    ("size", "1t", 1 << 40, "size.go RAMInBytes: t"),
    ("size", "1p", 1 << 50, "size.go RAMInBytes: p"),
    ("size", "2 GiB", 2 * G, "size.go parseSize: one space before the unit"),
    ("size", "1 ", 1, "size.go parseSize: the space is cut, empty suffix"),
    ("size", "1e3", 1000, "size.go parseSize: ParseFloat exponent"),
    ("size", "+5m", 5 * M, "size.go parseSize: ParseFloat sign"),
    ("size", "1.0000001k", 1024, "size.go parseSize: int64(size) truncates"),
    ("size", "0", 0, "size.go parseSize"),
    ("size", "-1", REJECT, "size.go parseSize: negative sizes"),
    ("size", "-1m", REJECT, "size.go parseSize: negative sizes"),
    ("size", "", REJECT, "size.go parseSize: at least a digit"),
    ("size", "m", REJECT, "size.go parseSize: at least a digit"),
    ("size", " 1g", REJECT, "size.go parseSize: ParseFloat(' 1')"),
    ("size", "1g ", REJECT, "size.go parseSize: ParseFloat('1g')"),
    ("size", "1  g", REJECT, "size.go parseSize: ParseFloat('1 ')"),
    ("size", "1x", REJECT, "size.go parseSize: unknown suffix"),
    ("size", "1ki", REJECT, "size.go parseSize: 2-letter suffix must end in b"),
    ("size", "1kbb", REJECT, "size.go parseSize: suffix too long"),
    ("size", "1bb", REJECT, "size.go parseSize: nothing after b"),
    ("size", "1kib ", REJECT, "size.go parseSize: ParseFloat('1kib')"),
    ("size", "1e", REJECT, "size.go parseSize: e is no unit"),
    ("size", "1.2.3", REJECT, "size.go parseSize: ParseFloat"),
    ("size", "1_000", REJECT, "size.go parseSize: ParseFloat, no underscores in decimal"),
    ("size", "1e400", REJECT, "size.go parseSize: ParseFloat range error"),
    ("size", "16777216p", REJECT, "booth: beyond int64 (Docker overflows)"),
    # --- booleans ---------------------------------------------------------------------------
    *[("bool", v, True, "ParseBool") for v in ("1", "t", "T", "TRUE", "true", "True")],
    *[("bool", v, False, "ParseBool") for v in ("0", "f", "F", "FALSE", "false", "False")],
    *[("bool", v, REJECT, "ParseBool") for v in ("yes", "no", "TrUe", "on", "", " true", "2")],
    # --- cpus -------------------------------------------------------------------------------
    ("cpus", "1.5", 1_500_000_000, "opts.go ParseCPUs: big.Rat"),
    ("cpus", "3/2", 1_500_000_000, "opts.go ParseCPUs: big.Rat fraction"),
    ("cpus", "2", 2_000_000_000, "opts.go ParseCPUs"),
    ("cpus", "0.000000001", 1, "opts.go ParseCPUs: one nano CPU"),
    ("cpus", "1e-1", 100_000_000, "opts.go ParseCPUs: big.Rat exponent"),
    ("cpus", "0", 0, "opts.go ParseCPUs: 0 is no limit"),
    ("cpus", "0.0000000001", REJECT, "opts.go ParseCPUs: value is too precise"),
    ("cpus", "one", REJECT, "opts.go ParseCPUs: not a rational number"),
    ("cpus", "", REJECT, "opts.go ParseCPUs: not a rational number"),
    ("cpus", "-1", REJECT, "booth: negative CPU count"),
    # --- devices ----------------------------------------------------------------------------
    (
        "device",
        "/dev/fuse",
        {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"},
        "run opts.go parseLinuxDevice: defaults",
    ),
    (
        "device",
        "/dev/sda:/dev/xvda",
        {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/xvda", "CgroupPermissions": "rwm"},
        "run opts.go parseLinuxDevice",
    ),
    (
        "device",
        "/dev/sda:r",
        {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "r"},
        "run opts.go parseLinuxDevice: a valid mode in field 2 is the mode",
    ),
    (
        "device",
        "/dev/sda:/dev/xvda:mw",
        {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/xvda", "CgroupPermissions": "mw"},
        "run opts.go validDeviceMode: any order",
    ),
    ("device", "/dev/sda:/dev/xvda:rwx", REJECT, "run opts.go validDeviceMode: r, w, m only"),
    ("device", "/dev/sda:/dev/xvda:rr", REJECT, "run opts.go validDeviceMode: no repeats"),
    ("device", "/dev/sda:/dev/xvda:", REJECT, "run opts.go validDeviceMode: not empty"),
    ("device", "/dev/sda::rw", REJECT, "run opts.go validateLinuxPath: not absolute"),
    ("device", "/dev/sda:xvda", REJECT, "run opts.go validateLinuxPath: not absolute"),
    ("device", "sda", REJECT, "run opts.go validateLinuxPath: not absolute"),
    ("device", ":/dev/xvda", REJECT, "run opts.go validateLinuxPath: bad format"),
    ("device", "/a:/b:rw:x", REJECT, "run opts.go validateLinuxPath: more than 2 colons"),
    # --- env --------------------------------------------------------------------------------
    ("env", "A=1", ("A", "1"), "env.go ValidateEnv"),
    ("env", "A=", ("A", ""), "env.go ValidateEnv: empty value"),
    ("env", "A==b", ("A", "=b"), "env.go ValidateEnv: cut at the first ="),
    ("env", "A", ("A", None), "env.go ValidateEnv: looked up in the environment"),
    ("env", "", REJECT, "env.go ValidateEnv: empty name"),
    ("env", "=foo", REJECT, "env.go ValidateEnv: empty name"),
    # --- tmpfs ------------------------------------------------------------------------------
    ("tmpfs", "/run", ("/run", ""), "run opts.go: --tmpfs cut at the first ':'"),
    ("tmpfs", "/run:size=64m,mode=1777", ("/run", "size=64m,mode=1777"), "run opts.go: --tmpfs"),
    ("tmpfs", "run", REJECT, "linux_parser.go ValidateTmpfsMountDestination: absolute"),
    ("tmpfs", "/", REJECT, "linux_parser.go ValidateTmpfsMountDestination: not root"),
    # --- --mount ----------------------------------------------------------------------------
    (
        "mount",
        "type=bind,source=/a,target=/b",
        {"Type": "bind", "Source": "/a", "Target": "/b"},
        "mount.go MountOpt.Set",
    ),
    (
        "mount",
        "target=/data",
        {"Type": "volume", "Target": "/data"},
        "mount.go MountOpt.Set: volume by default",
    ),
    (
        "mount",
        "type=bind,src=/a,dst=/b,readonly",
        {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True},
        "mount.go MountOpt.Set: bare readonly",
    ),
    (
        "mount",
        "TYPE=BIND,SRC=/a,DESTINATION=/b,RO=1",
        {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True},
        "mount.go MountOpt.Set: keys and type case-insensitive",
    ),
    (
        "mount",
        "src=vol,dst=/b,ro=false",
        {"Type": "volume", "Source": "vol", "Target": "/b", "ReadOnly": False},
        "mount_utils.go parseBoolValue: false",
    ),
    (
        "mount",
        "src=vol,dst=/b,readonly=yes",
        REJECT,
        "mount_utils.go parseBoolValue: 1/true/0/false",
    ),
    (
        "mount",
        "src=vol,dst=/b,readonly=True",
        {"Type": "volume", "Source": "vol", "Target": "/b", "ReadOnly": True},
        "CLI <= 24 mount.go: strconv.ParseBool",
    ),
    (
        "mount",
        "src=vol,dst=/b,ro=t",
        {"Type": "volume", "Source": "vol", "Target": "/b", "ReadOnly": True},
        "CLI <= 24 mount.go: strconv.ParseBool",
    ),
    (
        "mount",
        "src=vol,dst=/b,readonly=F",
        {"Type": "volume", "Source": "vol", "Target": "/b", "ReadOnly": False},
        "CLI <= 24 mount.go: strconv.ParseBool",
    ),
    ("mount", "src=vol,dst=/b,readonly=TrUe", REJECT, "strconv.ParseBool"),
    ("mount", "type=volume,src=/abs,dst=/b", REJECT, "local.go validateName"),
    ("mount", "type=volume,src=a vol,dst=/b", REJECT, "local.go validateName"),
    ("mount", "type=volume,src=v,dst=/b", REJECT, "local.go validateName: too short"),
    (
        "mount",
        "type=volume,src=/abs,dst=/b,volume-driver=nfs",
        {
            "Type": "volume",
            "Source": "/abs",
            "Target": "/b",
            "VolumeOptions": {"DriverConfig": {"Name": "nfs"}},
        },
        "a driver's own names",
    ),
    ("mount", "type=image,dst=/b", REJECT, "linux_parser.go: image Source required"),
    (
        "mount",
        "type=bind,src=/a,dst=/b,bind-propagation=RSHARED",
        {"Type": "bind", "Source": "/a", "Target": "/b", "BindOptions": {"Propagation": "rshared"}},
        "mount.go MountOpt.Set: bind-propagation lowercased",
    ),
    ("mount", "type=bind,src=/a,dst=/b,bind-propagation=up", REJECT, "linux_parser.go"),
    ("mount", "src=vol,dst=/b,bind-propagation=rshared", REJECT, "mount_utils.go exclusive"),
    ("mount", "type=bind,src=/a,dst=/b,volume-nocopy", REJECT, "mount_utils.go exclusive"),
    ("mount", "type=volume,dst=/b,tmpfs-size=1m", REJECT, "mount_utils.go exclusive"),
    ("mount", "type=tmpfs,dst=/b,image-subpath=x", REJECT, "mount_utils.go exclusive"),
    (
        "mount",
        "src=vol,dst=/b,bind-recursive=enabled",
        {"Type": "volume", "Source": "vol", "Target": "/b"},
        "mount.go MountOpt.Set: bind-recursive=enabled sets nothing",
    ),
    (
        "mount",
        "type=bind,src=/a,dst=/b,bind-recursive=disabled",
        {"Type": "bind", "Source": "/a", "Target": "/b", "BindOptions": {"NonRecursive": True}},
        "mount.go MountOpt.Set: bind-recursive",
    ),
    ("mount", "type=bind,src=/a,dst=/b,bind-recursive=writable", REJECT, "mount_utils.go"),
    (
        "mount",
        "type=bind,src=/a,dst=/b,bind-recursive=readonly,readonly",
        REJECT,
        "mount_utils.go validateMountOptions: needs rprivate",
    ),
    (
        "mount",
        "type=bind,src=/a,dst=/b,bind-recursive=readonly,readonly,bind-propagation=rprivate",
        ACCEPT,
        "mount_utils.go validateMountOptions",
    ),
    ("mount", "type=bind,src=/a,dst=/b,bind-recursive=maybe", REJECT, "mount.go MountOpt.Set"),
    ("mount", "type=bind,src=/a,dst=/b,bind-nonrecursive", REJECT, "mount.go: deprecated"),
    (
        "mount",
        "type=bind,src=/a,dst=/b,bind-create-src",
        {"Type": "bind", "Source": "/a", "Target": "/b", "BindOptions": {"CreateMountpoint": True}},
        "mount.go MountOpt.Set: bind-create-src",
    ),
    (
        "mount",
        "src=vol,dst=/b,volume-nocopy,volume-driver=local,volume-opt=o=bind,volume-label=a=b,"
        "volume-subpath=sub",
        {
            "Type": "volume",
            "Source": "vol",
            "Target": "/b",
            "VolumeOptions": {
                "NoCopy": True,
                "DriverConfig": {"Name": "local", "Options": {"o": "bind"}},
                "Labels": {"a": "b"},
                "Subpath": "sub",
            },
        },
        "mount.go MountOpt.Set: volume-*",
    ),
    (
        "mount",
        'src=vol,dst=/b,"volume-opt=o=a,b"',
        {
            "Type": "volume",
            "Source": "vol",
            "Target": "/b",
            "VolumeOptions": {"DriverConfig": {"Options": {"o": "a,b"}}},
        },
        "mount.go: encoding/csv quoted field",
    ),
    ("mount", "src=vol,dst=/b,volume-opt==x", REJECT, "booth: setValueOnMap drops an empty name"),
    (
        "mount",
        "type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777",
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 64 * M, "Mode": 0o1777}},
        "mount.go MountOpt.Set: RAMInBytes, ParseUint(val, 8, 32)",
    ),
    ("mount", "type=tmpfs,dst=/t,tmpfs-mode=0o777", REJECT, "mount.go: ParseUint base 8"),
    ("mount", "type=tmpfs,dst=/t,tmpfs-mode=8", REJECT, "mount.go: ParseUint base 8"),
    ("mount", "type=tmpfs,dst=/t,tmpfs-size=1x", REJECT, "mount.go: RAMInBytes"),
    ("mount", "type=tmpfs,src=x,dst=/t", REJECT, "linux_parser.go: tmpfs takes no Source"),
    ("mount", "type=bind,dst=/b", REJECT, "linux_parser.go: bind needs Source"),
    ("mount", "type=bind,src=rel,dst=/b", REJECT, "linux_parser.go: Source must be absolute"),
    ("mount", "type=volume,dst=/b,readonly", REJECT, "linux_parser.go: anonymous + ReadOnly"),
    ("mount", "src=v", REJECT, "linux_parser.go: Target is required"),
    ("mount", "src=vol,dst=b", REJECT, "linux_parser.go: Target must be absolute"),
    ("mount", "src=vol,dst=/", REJECT, "linux_parser.go: Target is not root"),
    ("mount", "type=npipe,src=vol,dst=/b", REJECT, "linux_parser.go: mount type unknown"),
    ("mount", "src=vol,dst=/b,colour=red", REJECT, "mount.go MountOpt.Set: unknown option"),
    ("mount", "src=vol,dst=/b,target", REJECT, "mount.go MountOpt.Set: must be key=value"),
    ("mount", "src=vol, dst=/b", REJECT, "mount.go MountOpt.Set: key whitespace"),
    ("mount", "src=vol,dst= /b", REJECT, "mount.go MountOpt.Set: value whitespace"),
    ("mount", "src=,dst=/b", REJECT, "mount.go MountOpt.Set: value is empty"),
    ("mount", "", REJECT, "mount.go MountOpt.Set: value is empty"),
    ("mount", 'src=v"x,dst=/b', REJECT, "mount.go: encoding/csv bare quote"),
    ("mount", '"src=v"x,dst=/b', REJECT, "mount.go: encoding/csv extraneous quote"),
    ("mount", "src=vol,dst=/b\nreadonly", REJECT, "booth: csv would drop the second line"),
    (
        "mount",
        "src=vol,dst=/b,consistency=Cached",
        {"Type": "volume", "Source": "vol", "Target": "/b", "Consistency": "cached"},
        "mount.go MountOpt.Set: consistency lowercased, not validated",
    ),
    # --- -v: the CLI's volumespec.Parse, then the daemon's ParseMountRaw -------------------
    ("volume", "/data", VolumeSpec(None, "/data", ""), "volumespec: one field is the target"),
    ("volume", "/a:/b", VolumeSpec("/a", "/b", ""), "linux_parser.go: source and target"),
    ("volume", "v1:/b:ro,z", VolumeSpec("v1", "/b", "ro,z"), "linuxValidMountMode: groups"),
    ("volume", "/a:/b:rshared", VolumeSpec("/a", "/b", "rshared"), "linuxValidMountMode"),
    ("volume", "/a:/b:cached", VolumeSpec("/a", "/b", "cached"), "linuxConsistencyModes"),
    ("volume", "", REJECT, "volumespec: invalid empty volume spec"),
    ("volume", "/a::/b", REJECT, "volumespec: empty section between colons"),
    ("volume", "/a:/b:ro:extra", REJECT, "volumespec: too many colons"),
    ("volume", "a:b:c:d", REJECT, "linux_parser.go: SplitN 4 gives 4 fields"),
    ("volume", "/b:ro", REJECT, "linux_parser.go: a lone mode after one path"),
    ("volume", "/a:/b:bogus", REJECT, "linux_parser.go: invalid mode"),
    ("volume", "/a:/b:ro,rw", REJECT, "linuxValidMountMode: one rw mode"),
    ("volume", "/a:/b:shared,slave", REJECT, "linuxValidMountMode: one propagation"),
    ("volume", "v1:/", REJECT, "linux_parser.go: destination can't be /"),
    ("volume", "v1:rel", REJECT, "linux_parser.go: mount path must be absolute"),
    ("volume", "rel", REJECT, "linux_parser.go: mount path must be absolute"),
    # --- capabilities: caps.NormalizeLegacyCapabilities ------------------------------------
    ("cap", "NET_ADMIN", "NET_ADMIN", "caps: CAP_ prefix added"),
    ("cap", "cap_sys_ptrace", "cap_sys_ptrace", "caps: upper-cased"),
    ("cap", "all", "all", "caps: ALL in any case"),
    ("cap", "BOGUS", REJECT, "caps: unknown capability"),
    ("cap", "", REJECT, "caps: unknown capability CAP_"),
    ("cap", "A,B", REJECT, "caps: one name per flag"),
    ("cap", " NET_ADMIN", REJECT, "caps: not trimmed by the daemon"),
    # --- labels, DNS, extra hosts, security options ----------------------------------------
    ("label", "k=v", ("k", "v"), "opts.go ValidateLabel"),
    ("label", "  k=v", ("k", "v"), "opts.go ValidateLabel: leading whitespace dropped"),
    ("label", "k", ("k", ""), "opts.go ValidateLabel: value optional"),
    ("label", "=v", REJECT, "opts.go ValidateLabel: empty name"),
    ("label", "k k=v", REJECT, "opts.go ValidateLabel: whitespace in the name"),
    ("dns", "1.1.1.1", "1.1.1.1", "opts.go ValidateIPAddress"),
    ("dns", " ::0001 ", "::1", "opts.go ValidateIPAddress: trimmed, canonical"),
    ("dns", "notanip", REJECT, "opts.go ValidateIPAddress: net.ParseIP"),
    ("dns", "fe80::1%eth0", REJECT, "net.ParseIP: no zone"),
    ("add-host", "db:10.0.0.2", "db:10.0.0.2", "hosts.go ValidateExtraHost"),
    ("add-host", "db=10.0.0.2", "db:10.0.0.2", "hosts.go ValidateExtraHost: = sent as :"),
    ("add-host", "db=[::1]", "db:::1", "hosts.go ValidateExtraHost: brackets stripped"),
    ("add-host", "h:host-gateway", "h:host-gateway", "hosts.go: host-gateway"),
    ("add-host", "bad", REJECT, "hosts.go: bad format for add-host"),
    ("add-host", ":1.2.3.4", REJECT, "hosts.go: empty name"),
    ("add-host", "a:b=1.2.3.4", REJECT, "hosts.go: a colon in the name"),
    ("add-host", "db:server", REJECT, "hosts.go: invalid IP address"),
    ("security-opt", "no-new-privileges", ACCEPT, "daemon parseSecurityOpt"),
    ("security-opt", "no-new-privileges=false", ACCEPT, "parseSecurityOpt: ParseBool"),
    ("security-opt", "label:disable", ACCEPT, "parseSecurityOpt: ':' deprecated"),
    ("security-opt", "seccomp=unconfined", ACCEPT, "parseSecurityOpt"),
    ("security-opt", "no-new-privileges=maybe", REJECT, "parseSecurityOpt: invalid 2"),
    ("security-opt", "bogus", REJECT, "parseSecurityOpt: invalid 1"),
    ("security-opt", "systempaths=unconfined", REJECT, "booth: the CLI's own option"),
    # --- the flags CodingBooth passes through ----------------------------------------------
    (
        "ulimit",
        "nofile=1024:2048",
        ("nofile", {"Name": "nofile", "Soft": 1024, "Hard": 2048}),
        "go-units ParseUlimit",
    ),
    (
        "ulimit",
        "nproc=-1",
        ("nproc", {"Name": "nproc", "Soft": -1, "Hard": -1}),
        "go-units ParseUlimit: hard defaults to soft",
    ),
    ("ulimit", "nofile=2:1", REJECT, "go-units ParseUlimit: soft above hard"),
    ("ulimit", "nofile=-1:5", REJECT, "go-units ParseUlimit: unlimited soft, finite hard"),
    ("ulimit", "as=1", REJECT, "go-units ulimitNameMapping: as disabled"),
    ("ulimit", "nofile=1:2:3", REJECT, "go-units ParseUlimit: too many limit values"),
    ("ulimit", "nofile", REJECT, "go-units ParseUlimit: invalid ulimit argument"),
    ("sysctl", "net.ipv4.ip_forward=1", ("net.ipv4.ip_forward", "1"), "opts.go ValidateSysctl"),
    ("sysctl", "kernel.shmmax=1", ("kernel.shmmax", "1"), "opts.go ValidateSysctl: IPC keys"),
    ("sysctl", "fs.mqueue.msg_max=9", ("fs.mqueue.msg_max", "9"), "ValidateSysctl: prefix"),
    ("sysctl", "kernel.hostname=x", REJECT, "opts.go ValidateSysctl: not allowed"),
    ("sysctl", "net.x", REJECT, "opts.go ValidateSysctl: no ="),
    ("restart", "always", {"Name": "always", "MaximumRetryCount": 0}, "ParseRestartPolicy"),
    (
        "restart",
        "on-failure:3",
        {"Name": "on-failure", "MaximumRetryCount": 3},
        "ParseRestartPolicy: count",
    ),
    ("restart", "always:3", REJECT, "ValidateRestartPolicy: count only with on-failure"),
    ("restart", "on-failure:-1", REJECT, "ValidateRestartPolicy: negative"),
    ("restart", "on-failure:x", REJECT, "ParseRestartPolicy: count must be an integer"),
    ("restart", "sometimes", REJECT, "ValidateRestartPolicy: unknown policy"),
    ("ipc", "shareable", "shareable", "IpcMode.Valid"),
    ("ipc", "container:db", "container:db", "IpcMode.Valid: container"),
    ("ipc", "container:", REJECT, "booth: a container mode needs a name"),
    ("ipc", "bogus", REJECT, "IpcMode.Valid"),
    ("pid", "host", "host", "PidMode.Valid"),
    ("pid", "private", REJECT, "PidMode.Valid: only host or container"),
    (
        "gpus",
        "all",
        {"Driver": "", "Count": -1, "DeviceIDs": None, "Options": {}, "Capabilities": [["gpu"]]},
        "gpus.go GpuOpts.Set",
    ),
    (
        "gpus",
        "driver=nvidia,count=2",
        {
            "Driver": "nvidia",
            "Count": 2,
            "DeviceIDs": None,
            "Options": {},
            "Capabilities": [["gpu"]],
        },
        "gpus.go GpuOpts.Set: keys",
    ),
    ("gpus", "count=2,count=3", REJECT, "gpus.go: a key only once"),
    ("gpus", "colour=red", REJECT, "gpus.go: unexpected key"),
    ("expose", "80-81/udp", [("80/udp", {}), ("81/udp", {})], "opts.go: --expose ranges"),
    ("expose", "80/bogus", REJECT, "network.ParsePortRange: protocol"),
]


def _test_id(kind: str, text: str) -> str:
    """``kind:'text'``, a newline written ``<LF>``: an explicit id holding a character pytest
    must escape is escaped again by a second run in the same process (mutmut runs the
    tests that way), and a node id that has changed cannot be selected any more."""
    return f"{kind}:'{text}'".replace("\n", "<LF>")


@pytest.mark.parametrize(
    ("kind", "text", "expected", "source"), ROWS, ids=[_test_id(r[0], r[1]) for r in ROWS]
)
def test_docker_grammar(kind: str, text: str, expected: object, source: str) -> None:
    parse = PARSERS[kind]
    if expected is REJECT:
        with pytest.raises(ConfigError):
            parse(text, W)
        return
    result = parse(text, W)
    if expected is not ACCEPT:
        assert result == expected, source


def test_the_table_is_large_and_sourced() -> None:
    assert len(ROWS) >= 100
    assert all(source.strip() for *_, source in ROWS)
