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

# The node controller keeps it so: tsnctl agent on the same namespace; somebody deletes the root
# qdisc; the agent repairs it on the kernel's notification and says what drifted.
section "tsnctl agent --netns tsn: tc qdisc del dev v0 root, repaired"
tsnctl agent --netns tsn -f /tmp/seed-veth.yaml --status /tmp/agent.json --metrics-addr 127.0.0.1:9559 2>/tmp/agent.log &
agent=$!
for _ in $(seq 100); do tsnctl status --status /tmp/agent.json >/dev/null 2>&1 && break; sleep 0.1; done
tc -n tsn qdisc del dev v0 root
for _ in $(seq 100); do tc -n tsn qdisc show dev v0 | grep -q taprio && break; sleep 0.05; done
sleep 0.2
tc -n tsn qdisc show dev v0 | grep -E "taprio|etf"
grep -E "drift repaired|adopted" /tmp/agent.log | sed 's/^/agent log: /'
tsnctl status --status /tmp/agent.json
kill -TERM "$agent"
wait "$agent" || true

# The seed's three cases, 1000 cycles each, a receiver in namespace rx* and the sender in tx*;
# the sample logs go to /host/out (out/lab-share/out on the host), where `make lab` makes the report.
#   case 1: no TSN -- plain sends at the cycle start, no qdisc (VLAN 3 only);
#   case 2: taprio + ETF (testbed/lab-seed-assist.yaml), SO_TXTIME, window from the installed schedule;
#   case 3: case 2 under iperf3 load through the same port (best-effort class).
mkdir -p /host/out
# pair N: namespaces txN/rxN joined by a 4-queue veth v0 <-> v1, loopbacks up.
pair() {
	ip netns add "tx$1"
	ip netns add "rx$1"
	ip -n "tx$1" link add name v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
	ip -n "tx$1" link set v1 netns "rx$1"
	ip -n "tx$1" link set lo up; ip -n "rx$1" link set lo up; ip -n "tx$1" link set v0 up; ip -n "rx$1" link set v1 up
}
# addresses N: VLAN 3 on the receiving side, 10.N.0.1 -> 10.N.0.2, static neighbours (with taprio
# installed, ARP could wait in a closed gate).
addresses() {
	ip -n "rx$1" link add link v1 name v1.3 type vlan id 3
	ip -n "rx$1" link set v1.3 up
	ip -n "rx$1" addr add "10.$1.0.2/24" dev v1.3
	ip -n "tx$1" addr add "10.$1.0.1/24" dev v0.3
	ip -n "tx$1" neigh add "10.$1.0.2" lladdr "$(ip -n "rx$1" -br link show v1.3 | awk '{print $3}')" dev v0.3
	ip -n "rx$1" neigh add "10.$1.0.1" lladdr "$(ip -n "tx$1" -br link show v0.3 | awk '{print $3}')" dev v1.3
}
# traffic CASE N SEND-ARGS...: 1000 cycles from txN to rxN, logs /host/out/CASE-{send,recv}.log.
traffic() {
	local name=$1 n=$2
	shift 2
	tsnctl recv --netns "rx$n" --listen :7788 --iface v1.3 --count 1000 --duration 40s --log "/host/out/$name-recv.log" >"/tmp/$name-recv.txt" &
	local rpid=$!
	sleep 0.5
	tsnctl send --netns "tx$n" --dest "10.$n.0.2:7788" --iface v0.3 --priority 6 --count 1000 --fifo 80 \
		--log "/host/out/$name-send.log" "$@"
	wait "$rpid"
	cat "/tmp/$name-recv.txt"
}

section "case 1, no TSN: tsnctl send (plain, 10 ms cycle, no qdisc) -> tsnctl recv, 1000 cycles"
pair 1
ip -n tx1 link add link v0 name v0.3 type vlan id 3 egress-qos-map 6:6
ip -n tx1 link set v0.3 up
addresses 1
traffic case1 1 --cycle 10ms

section "case 2, taprio + ETF: tsnctl send --txtime --from-qdisc v0 -> tsnctl recv, 1000 cycles"
pair 3
tsnctl apply --netns tx3 -f /src/testbed/lab-seed-assist.yaml | tail -n 2
addresses 3
traffic case2 3 --txtime --from-qdisc v0 --offset 100us --wake-advance 4ms --tx-timestamps

section "case 3, case 2 under load: iperf3 -u -b 100M through the same port, best-effort class"
ip netns exec rx3 iperf3 -s -D -B 10.3.0.2 -p 5201 --logfile /tmp/iperf3-server.log
sleep 0.3
ip netns exec tx3 iperf3 -c 10.3.0.2 -p 5201 -u -b 100M -t 30 --logfile /tmp/iperf3-client.log &
ipid=$!
sleep 1
traffic case3 3 --txtime --from-qdisc v0 --offset 100us --wake-advance 4ms --tx-timestamps
kill "$ipid" 2>/dev/null || true
wait "$ipid" 2>/dev/null || true
grep -E 'sender|receiver' /tmp/iperf3-client.log | tail -n 2 || true

section "first records of case 2's sample logs (tsnctl dump)"
tsnctl dump /host/out/case2-send.log | sed -n '1,5p'
tsnctl dump /host/out/case2-recv.log | sed -n '3,5p'
section "tsnctl analyze case 2 (sender's and receiver's logs), SLA: nothing lost, no ETF drop"
tsnctl analyze --warmup 10 --sla lost==0 --sla etf_dropped==0 /host/out/case2-send.log /host/out/case2-recv.log ||
	echo "(an SLA was violated: see above)"
