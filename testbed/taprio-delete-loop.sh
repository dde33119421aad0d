#!/bin/sh
# Deletes a running software taprio with an ETF child under traffic, N times (default 400), in
# three ways, one after the other: with the link down after a change re-armed the schedule timer,
# with the link up after a change, and with a change pending. Traffic: a ping flood (best effort)
# and tsnctl send --txtime in the ETF's class. It looks for the kernel's taprio_dequeue_from_txq
# NULL dereference (docs/findings.md); a panic ends the guest and the run fails.
#
#   go build -o bin/tsnctl ./cmd/tsnctl
#   testbed/run --time real --timeout 1400 --bin bin/tsnctl testbed/taprio-delete-loop.sh
set -u
N=${N:-400}
M="map 3 3 3 3 3 3 1 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3"
S1="sched-entry S 01 200000 sched-entry S 02 100000 sched-entry S 04 100000 sched-entry S 08 100000"
S2="sched-entry S 0f 300000 sched-entry S 02 200000"
down=0 up=0 pend=0
for i in $(seq 1 $N); do
	ip netns add pa; ip netns add pb
	ip -n pa link add v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
	ip -n pa link set v1 netns pb
	ip -n pa addr add 10.77.0.1/24 dev v0; ip -n pb addr add 10.77.0.2/24 dev v1
	ip -n pa link set v0 up; ip -n pb link set v1 up
	ip -n pa neigh add 10.77.0.2 lladdr "$(ip -n pb -br link show v1 | awk '{print $3}')" dev v0
	tc -n pa qdisc replace dev v0 parent root handle 100: taprio num_tc 4 $M base-time 0 $S1 clockid CLOCK_TAI
	tc -n pa qdisc replace dev v0 parent 100:2 handle e001: etf clockid CLOCK_TAI delta 200000 skip_sock_check
	tc -n pa qdisc replace dev v0 parent root handle 100: taprio num_tc 4 $M base-time 0 $S1 clockid CLOCK_TAI
	ip netns exec pa ping -q -f -s 1200 -w 2 10.77.0.2 >/dev/null 2>&1 &
	ping=$!
	# SO_TXTIME traffic in the ETF's class (priority 6 -> class 1 -> TX queue 1): ETF holds it until
	# its txtime, with its watchdog armed.
	tsnctl send --netns pa --raw --iface v0 --dest-mac "$(ip -n pb -br link show v1 | awk '{print $3}')" --priority 6 --txtime --count 400 \
		--cycle 1ms --window 200us,300us --offset 50us --quiet >/dev/null 2>&1 &
	send=$!
	sleep 0.0$((i % 7 + 1))
	if [ $((i % 3)) = 2 ]; then
		# a change pending (admin, base-time 10 s ahead) when the root goes
		now=$(date +%s)
		tc -n pa qdisc replace dev v0 parent root handle 100: taprio num_tc 4 $M base-time $(( (now + 10 + 37) * 1000000000 )) $S2 clockid CLOCK_TAI
		tc -n pa qdisc del dev v0 root
		pend=$((pend + 1))
	elif [ $((i % 3)) = 0 ]; then
		ip -n pa link set v0 down
		tc -n pa qdisc replace dev v0 parent root handle 100: taprio num_tc 4 $M base-time 0 $S2 clockid CLOCK_TAI
		tc -n pa qdisc del dev v0 root
		down=$((down + 1))
	else
		tc -n pa qdisc replace dev v0 parent root handle 100: taprio num_tc 4 $M base-time 0 $S2 clockid CLOCK_TAI
		tc -n pa qdisc del dev v0 root
		up=$((up + 1))
	fi
	kill $ping $send 2>/dev/null; wait $ping $send 2>/dev/null
	ip netns del pa; ip netns del pb
	[ $((i % 50)) = 0 ] && echo "iteration $i: alive (link down $down, up $up, pending $pend)"
done
echo "survived $N iterations: $down deletes with the link down after a change, $up with it up, $pend with a change pending"
