# shellcheck shell=bash
# The lab's cases' building blocks, sourced in the guest by testbed/lab.sh (make lab) and
# testbed/lab-rt.sh (make lab-rt), so that both run the same topology and the same load.

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
# The application's load, on CPU 1: load_start / load_stop around each run, so that every case
# sees the same load.
load_start() {
	taskset -c 1 hackbench -p -g 1 -f 1 -l 1000000000 >/dev/null 2>&1 &
	load=$!
	sleep 0.5
}
load_stop() { killall hackbench 2>/dev/null || true; wait "$load" 2>/dev/null || true; sleep 0.2; }
# stress_start N [SECONDS] / stress_stop: case 3's best-effort traffic through txN's port (priority
# 0 -> TC 3), for up to SECONDS (default 30).
stress_start() {
	ip netns exec "rx$1" iperf3 -s -D -B "10.$1.0.2" -p 5201 --logfile "/tmp/iperf3-server$1.log"
	sleep 0.3
	ip netns exec "tx$1" taskset -c 1 iperf3 -c "10.$1.0.2" -p 5201 -u -b 100M -t "${2:-30}" --logfile "/tmp/iperf3-client$1.log" &
	stress=$!
	sleep 0.5
}
stress_stop() { kill "$stress" 2>/dev/null || true; wait "$stress" 2>/dev/null || true; }
