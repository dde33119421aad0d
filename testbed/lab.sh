#!/bin/bash
# The main job of `make lab`, run inside the lab guest (testbed/run testbed/lab.sh).
set -euo pipefail
section() { printf '\n== %s\n' "$*"; }
# carrier IF: wait for the link (after ip link set up, or a channel change that resets the NIC):
# until then the driver reports no speed and taprio times frames at 10 Mb/s.
carrier() { for _ in $(seq 50); do [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ] && return; sleep 0.1; done; }

section "tsnctl version"
tsnctl version

section "tsnctl check (the lab guest: Debian's $(uname -r) kernel, igb NICs eth0 and eth1)"
tsnctl check --iface eth0 --iface eth1 || true

# The seed's node configuration (configs/seed.yaml), on the igb NIC eth1 (4 channels)...
section "tsnctl apply -f configs/seed.yaml (eth1, igb)"
ip link set eth0 up
ip link set eth1 up
carrier eth1
tsnctl apply -f /src/configs/seed.yaml
section "tsnctl apply again: nothing to change"
carrier eth1 # the channel change reset the igb link
tsnctl apply -f /src/configs/seed.yaml
section "tsnctl show --iface eth1"
tsnctl show --iface eth1
section "tc -d qdisc show dev eth1 (iproute2's own read-back)"
tc -d qdisc show dev eth1
section "ip -d link show eth1.3"
ip -d link show eth1.3 | sed -n '3,4p'
section "ethtool -l eth1"
ethtool -l eth1 | sed -n '/Current/,$p'

# ... and on a 4-queue veth in a namespace.
section "tsnctl apply --netns tsn -f seed (v0, a 4-queue veth)"
ip netns add tsn
ip -n tsn link add name v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
sed 's/eth1/v0/g' /src/configs/seed.yaml >/tmp/seed-veth.yaml
tsnctl apply --netns tsn -f /tmp/seed-veth.yaml
section "tsnctl show --netns tsn"
tsnctl show --netns tsn
section "tc -n tsn -d qdisc show dev v0"
tc -n tsn -d qdisc show dev v0
