#!/bin/sh
# tools/install-deps.sh: make sure QEMU, GRUB (BIOS) and xorriso are installed.
# Idempotent: does nothing when every tool is present.  Installs Debian packages with
# apt-get (running `apt-get update` first), and only that; needs root.
set -e
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v grub-mkrescue >/dev/null 2>&1 || need="$need grub-common"
[ -d /usr/lib/grub/i386-pc ] || need="$need grub-pc-bin"
command -v xorriso >/dev/null 2>&1 || need="$need xorriso"
command -v mformat >/dev/null 2>&1 || need="$need mtools"
[ -z "$need" ] && exit 0

echo "install-deps: missing Debian packages:$need"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "install-deps: not root; run as root: apt-get install -y --no-install-recommends$need" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
# shellcheck disable=SC2086
${SUDO:-} apt-get install -y -qq --no-install-recommends $need
