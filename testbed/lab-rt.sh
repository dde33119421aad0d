#!/bin/bash
# make lab-rt, in the guest (virtual time): how short a cycle each kernel holds. One boot per kernel
# (testbed/run --kernel rt, --append preempt=full); this script runs the same points on each:
#
#   the cycles 2 ms, 1 ms, 500 us, 250 us and 125 us, each 10 000 cycles (+10 of warm-up) through a
#   software taprio + ETF on a 4-queue veth (the seed's map, queues, VLAN 3 / PCP 6): traffic class
#   1's window is the middle 100 us of the cycle, the txtime 90 us into it (room for an ETF delta
#   of up to 90 us: ETF must release inside the window); best effort the rest of the cycle;
#   case 3's load: hackbench -p and iperf3 -u -b 100M (best effort, through the same port), both on
#   CPU 1 with the sender (SCHED_FIFO 80, --cpu 1) and so with ETF's release timer (an hrtimer
#   pinned to the CPU that enqueued); the receiver on CPU 0;
#   the ETF delta calibrated on this kernel under that load (tsnctl calibrate delta, 1000 cycles at
#   2 ms with delta 40 us), the wake-up advance likewise (tsnctl calibrate, SCHED_FIFO 80), and
#   cyclictest's wake-up latency under it, for the kernel's own share (10 000 loops at 1 ms).
#
# A cycle is held when the sender skipped no cycle, ETF dropped nothing and every packet reached the
# wire inside its window (by its TX timestamp); the host judges (make lab-rt's report) from the
# sample logs in /host/out, named KERNEL-CYCLE-{send,recv}.log.
set -euo pipefail
section() { printf '\n== %s\n' "$*"; }
. /src/testbed/lab-cases.sh
mkdir -p /host/out
case "$(uname -r) $(cat /proc/cmdline)" in
*-rt-*) kernel=rt ;;
*preempt=full*) kernel=full ;;
*) kernel=standard ;;
esac
label="kernel=$kernel: $(uname -r)$(grep -o ' preempt=[a-z]*' /proc/cmdline || true), guest virtual time (QEMU -icount)"
count=10000

mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
section "kernel $kernel: $(uname -r), command line: $(cat /proc/cmdline)"
echo "preemption model (/sys/kernel/debug/sched/preempt): $(cat /sys/kernel/debug/sched/preempt 2>/dev/null || echo 'not there (PREEMPT_RT has no dynamic model)')"
# The kernel's own threads that run timers, softirqs and interrupts, with their scheduling class and
# real-time priority (/proc/PID/stat: policy 1 = SCHED_FIFO, rt_priority): on the RT kernel the
# release of a software ETF runs in one of them.
echo "kernel threads (policy: 0 other, 1 FIFO, 2 RR; rt priority):"
for d in /proc/[0-9]*; do
	read -r comm <"$d/comm" 2>/dev/null || continue
	case $comm in ktimers/* | ksoftirqd/* | irq/* | rcuc/* | rcub/* | ktimersoftd/*) ;; *) continue ;; esac
	stat=$(cat "$d/stat" 2>/dev/null) || continue
	rest=${stat##*) }
	set -- $rest
	echo "  $comm: policy ${39} rt priority ${38}"
done | sort -u

# node N CYCLE DELTA: txN's v0 with a taprio whose class 1 window is the middle $win ns of CYCLE, and
# an ETF with DELTA on its queue (ns).
win=100000 off=90000
node() {
	local n=$1 c=$2 d=$3 w=$win
	cat >"/tmp/node$n.yaml" <<YAML
interfaces:
  - name: v0
    vlans: [{id: 3, egress-qos-map: {6: 6}}]
    taprio:
      num-tc: 4
      map: [3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3]
      queues: ["1@0", "1@1", "1@2", "1@3"]
      clockid: CLOCK_TAI
      base-time: auto
      schedule:
        - {cmd: S, gates: 0x08, interval: $(((c - w) / 2))ns}
        - {cmd: S, gates: 0x02, interval: ${w}ns}
        - {cmd: S, gates: 0x08, interval: $((c - w - (c - w) / 2))ns}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: ${d}ns}
YAML
	taskset -c 0 tsnctl apply --netns "tx$n" -f "/tmp/node$n.yaml" | tail -n 1
}
# run NAME N CYCLE COUNT ADVANCE: COUNT cycles from txN to rxN under case 3's load, SCHED_FIFO 80 on CPU 1.
run() {
	local name=$1 n=$2 c=$3 cnt=$4 adv=$5
	taskset -c 0 tsnctl recv --netns "rx$n" --listen :7788 --iface v1.3 --count "$cnt" --duration "$((cnt * c / 1000000000 + 5))s" \
		--log "/host/out/$name-recv.log" --label "$label" >/dev/null &
	local rpid=$!
	sleep 0.5
	stress_start "$n" "$((cnt * c / 1000000000 + 10))"
	load_start
	tsnctl send --netns "tx$n" --dest "10.$n.0.2:7788" --iface v0.3 --priority 6 --count "$cnt" --cpu 1 --fifo 80 \
		--txtime --from-qdisc v0 --offset "${off}ns" --wake-advance "${adv}ns" --tx-timestamps \
		--log "/host/out/$name-send.log" --label "$label" | grep -E 'ETF drops|cycles missed|wake-up latency' || true
	load_stop
	stress_stop
	wait "$rpid" || true
}
cycles=(2000000 1000000 500000 250000 125000)
# ns DURATION: tsnctl's printed duration (1.766ms, 51us, 950µs) in ns.
ns() {
	awk -v a="$1" 'BEGIN { u = a; sub(/[a-zµ]+$/, "", u); s = a; sub(/^[0-9.]+/, "", s);
		m = (s == "ms") ? 1e6 : (s == "us" || s == "µs") ? 1e3 : (s == "s") ? 1e9 : 1; printf "%d", u * m }'
}

section "calibration on this kernel under case 3's load: ETF delta (1000 cycles at 2 ms, delta 40 us), wake-up advance (SCHED_FIFO 80, 5000 loops)"
pair 9
node 9 2000000 40000
addresses 9
stress_start 9 60
load_start
tsnctl calibrate --interval 1ms --loops 5000 --fifo 80 --cpu 1 --etf-delta 40us | tee /tmp/wake.txt
load_stop
stress_stop
# The kernel's own wake-up latency under the same load, CPU and priority, without tsnctl (and its Go
# runtime): cyclictest, 10 000 loops at 1 ms. A sender waking later than this is the sender's.
stress_start 9 30
load_start
cyclictest -m -q -p 80 -a 1 -t 1 -i 1000 -l 10000 | tee "/host/out/$kernel-cyclictest.txt"
load_stop
stress_stop
advance=$(awk '/^recommended: tsnctl send --wake-advance/ {print $5}' /tmp/wake.txt)
advance_ns=$(ns "$advance")
run calib 9 2000000 1000 "$advance_ns"
tsnctl calibrate delta --etf-delta 40us --warmup 10 /host/out/calib-send.log /host/out/calib-recv.log | tee /tmp/delta.txt
rm -f /host/out/calib-*.log
delta=$(awk '/^recommended: ETF delta/ {print $4}' /tmp/delta.txt)
delta_ns=$(ns "$delta")
[ -n "$delta_ns" ] && [ -n "$advance_ns" ] || { echo "calibration gave no delta or no wake-up advance"; exit 1; }
echo "kernel $kernel: ETF delta $delta, wake-up advance $advance (+ the delta)" | tee "/host/out/$kernel-calibration.txt"

n=10
for c in "${cycles[@]}"; do
	# The calibrated advance covers the worst wake-up and the calibration's 40 us delta: here the
	# delta is this kernel's. The sender may wake at most its txtime's offset plus a cycle ahead.
	adv=$((advance_ns - 40000 + delta_ns))
	max=$(((c - win) / 2 + off + c - 1000))
	[ "$adv" -le "$max" ] || adv=$max
	section "kernel $kernel, cycle $((c / 1000)) us: window [$(((c - win) / 2000)), $(((c + win) / 2000))) us, txtime at $(((c - win) / 2000 + off / 1000)) us, ETF delta $delta, wake-up advance $((adv / 1000)) us, $count cycles"
	pair "$n"
	node "$n" "$c" "$delta_ns"
	addresses "$n"
	run "$kernel-$((c / 1000))us" "$n" "$c" "$count" "$adv"
	n=$((n + 1))
done
