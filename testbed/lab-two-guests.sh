#!/bin/bash
# Second part of `make lab`, run in both guests of the two-guest topology (testbed/run --vms 2):
# guest 1 configures eth1 (the seed's node, txtime-assist, 10 ms cycle) and sends 1000 cycles with
# SO_TXTIME to guest 2, which receives on its own eth1 -- across the dgram cable between two QEMUs.
# Each guest has its own clock (no time sync yet: guest 2's timestamps are on its own clock).
set -euo pipefail
ip link set eth1 up
for _ in $(seq 50); do [ "$(cat /sys/class/net/eth1/carrier 2>/dev/null)" = 1 ] && break; sleep 0.1; done
if [ "$LAB_VM" = 2 ]; then
	ip link add link eth1 name eth1.3 type vlan id 3
	ip link set eth1.3 up
	ip addr add 10.3.0.2/24 dev eth1.3
	ip neigh add 10.3.0.1 lladdr 52:54:00:00:01:01 dev eth1.3
	echo "== guest 2: tsnctl recv on eth1.3"
	tsnctl recv --listen :7788 --iface eth1.3 --count 1000 --duration 60s
	exit 0
fi
# On the igb NIC the seed's 4 channels are needed (igb starts with 2).
sed 's/  - name: v0/  - name: eth1\n    channels: 4/' /src/testbed/lab-seed-assist.yaml >/tmp/seed-eth1.yaml
echo "== guest 1: tsnctl apply (eth1, igb)"
tsnctl apply -f /tmp/seed-eth1.yaml | tail -n 1
for _ in $(seq 50); do [ "$(cat /sys/class/net/eth1/carrier 2>/dev/null)" = 1 ] && break; sleep 0.1; done
ip addr add 10.3.0.1/24 dev eth1.3
ip neigh add 10.3.0.2 lladdr 52:54:00:00:02:01 dev eth1.3
sleep 2 # let guest 2 open its socket
echo "== guest 1: tsnctl send --txtime --from-qdisc eth1 -> guest 2"
tsnctl send --dest 10.3.0.2:7788 --iface eth1.3 --priority 6 --txtime --from-qdisc eth1 \
	--offset 100us --wake-advance 4ms --count 1000 --fifo 80
