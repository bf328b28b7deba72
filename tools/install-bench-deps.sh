#!/bin/sh
# tools/install-bench-deps.sh: make sure what `make bench-peer` needs for its Linux side is
# installed: a Debian kernel image under /boot (linux-image-amd64), a static busybox for
# the initramfs (busybox-static), cpio to pack it, and static glibc for the probe
# (libc6-dev).  Idempotent, like tools/install-deps.sh: does nothing when all are present;
# otherwise installs the Debian packages with apt-get (running `apt-get update` first),
# and only that; needs root.
set -e
need=""
ls /boot/vmlinuz-* >/dev/null 2>&1 || need="$need linux-image-amd64"
dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static"
command -v cpio >/dev/null 2>&1 || need="$need cpio"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need="$need libc6-dev"
[ -z "$need" ] && exit 0

echo "install-bench-deps: missing Debian packages:$need"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "install-bench-deps: not root; run as root: apt-get install -y --no-install-recommends$need" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
# shellcheck disable=SC2086
${SUDO:-} apt-get install -y -qq --no-install-recommends $need
