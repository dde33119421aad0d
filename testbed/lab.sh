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

# The seed's traffic: a receiver in namespace rx, the sender in namespace tx sending 1000 cycles
# with SO_TXTIME through taprio + ETF (testbed/lab-seed-assist.yaml), its window taken from the
# installed schedule (--from-qdisc).
section "traffic: tsnctl send --txtime --from-qdisc v0 (namespace tx) -> tsnctl recv (namespace rx), 1000 cycles"
ip netns add tx
ip netns add rx
ip -n tx link add name v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
ip -n tx link set v1 netns rx
ip -n tx link set lo up; ip -n rx link set lo up; ip -n tx link set v0 up; ip -n rx link set v1 up
tsnctl apply --netns tx -f /src/testbed/lab-seed-assist.yaml | tail -n 2
ip -n rx link add link v1 name v1.3 type vlan id 3
ip -n rx link set v1.3 up
ip -n rx addr add 10.3.0.2/24 dev v1.3
ip -n tx addr add 10.3.0.1/24 dev v0.3
# Static neighbours: with taprio installed, ARP could wait in a closed gate.
ip -n tx neigh add 10.3.0.2 lladdr "$(ip -n rx -br link show v1.3 | awk '{print $3}')" dev v0.3
ip -n rx neigh add 10.3.0.1 lladdr "$(ip -n tx -br link show v0.3 | awk '{print $3}')" dev v1.3
mkdir -p /host/out
tsnctl recv --netns rx --listen :7788 --iface v1.3 --count 1000 --duration 40s --log /host/out/recv.log >/tmp/recv.txt &
sleep 0.5
tsnctl send --netns tx --dest 10.3.0.2:7788 --iface v0.3 --priority 6 --txtime --from-qdisc v0 \
	--offset 100us --wake-advance 4ms --count 1000 --fifo 80 --tx-timestamps --log /host/out/send.log
wait
cat /tmp/recv.txt
section "first records of the sample logs (tsnctl dump)"
tsnctl dump /host/out/send.log | sed -n '1,5p'
tsnctl dump /host/out/recv.log | sed -n '3,5p'
