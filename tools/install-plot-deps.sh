#!/bin/sh
# tools/install-plot-deps.sh: make sure a Python with matplotlib is installed for
# `make bench`'s plots (tools/experiments.py).  Idempotent, like tools/install-deps.sh:
# does nothing when python3 on PATH or Debian's /usr/bin/python3 imports matplotlib;
# otherwise installs Debian's python3-matplotlib with apt-get (running `apt-get update`
# first), which serves /usr/bin/python3, and only that; needs root.
set -e
for py in python3 /usr/bin/python3; do
	"$py" -c "import matplotlib" >/dev/null 2>&1 && exit 0
done
need="python3-matplotlib"

echo "install-plot-deps: missing Debian packages: $need"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "install-plot-deps: not root; run as root: apt-get install -y --no-install-recommends $need" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq --no-install-recommends $need
