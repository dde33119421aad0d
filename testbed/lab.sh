#!/bin/bash
# The main job of `make lab`, run inside the lab guest (testbed/run testbed/lab.sh).
set -euo pipefail
echo "== tsnctl version"
tsnctl version
echo
echo "== tsnctl check (the lab guest: Debian's $(uname -r) kernel, igb NICs eth0 and eth1)"
tsnctl check --iface eth0 --iface eth1
