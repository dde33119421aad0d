#!/bin/bash
# make lab-trace-etf, in the guest (virtual time): where a software ETF's release time goes under the
# application's load. Case 2 of make lab (the seed's taprio + ETF on a 4-queue veth, ETF delta 16 us,
# hackbench -p next to the sender on CPU 1, the window [1200, 1300] us of a 2 ms cycle), 1000 cycles
# with the kernel's tracepoints on, then a summary per packet:
#
#   release    ETF's watchdog interrupt: hrtimer_expire_entry's now - the expiry qdisc_watchdog was
#              armed for (the timer's interrupt waiting for a section with interrupts off);
#   pinned     the CPU the watchdog fired on (hrtimers of qdiscs are pinned: the CPU that enqueued);
#   tick       the scheduler tick fired on that CPU within 20 us before the release;
#   ksoftirqd  the receiving veth's NET_RX ran in ksoftirqd instead of right after NET_TX.
#
# The tracepoints cost time themselves (about 3 us per packet here), so the figures are larger than
# make lab's; what they attribute is the same. The trace is kept in /host/out/trace-etf.txt.
set -euo pipefail
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T
mkdir -p /host/out
ip netns add tx
ip netns add rx
ip -n tx link add name v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
ip -n tx link set v1 netns rx
for ns in tx rx; do ip -n $ns link set lo up; done
ip -n tx link set v0 up
ip -n rx link set v1 up
sed -e 's/eth1/v0/g' -e 's/delta: 5ms/delta: 16us/' -e 's/offload: auto/offload: false/' /src/configs/seed.yaml >/tmp/seed.yaml
taskset -c 0 tsnctl apply --netns tx -f /tmp/seed.yaml | tail -n 1
ip -n rx link add link v1 name v1.3 type vlan id 3
ip -n rx link set v1.3 up
ip -n rx addr add 10.0.0.2/24 dev v1.3
ip -n tx addr add 10.0.0.1/24 dev v0.3
ip -n tx neigh add 10.0.0.2 lladdr "$(ip -n rx -br link show v1.3 | awk '{print $3}')" dev v0.3
taskset -c 1 hackbench -p -g 1 -f 1 -l 1000000000 >/dev/null 2>&1 &
load=$!
sleep 0.5

echo tai >$T/trace_clock # the clock of ETF's hrtimer: its expiries and the trace line up
echo 120000 >$T/buffer_size_kb
echo >$T/trace
for e in timer/hrtimer_start timer/hrtimer_expire_entry irq/softirq_entry net/net_dev_start_xmit net/netif_receive_skb; do
	echo 1 >"$T/events/$e/enable"
done
taskset -c 0 tsnctl recv --netns rx --listen :7788 --iface v1.3 --count 1000 --duration 6s --log /host/out/trace-etf-recv.log >/dev/null &
rpid=$!
sleep 0.5
echo 1 >$T/tracing_on
tsnctl send --netns tx --dest 10.0.0.2:7788 --iface v0.3 --priority 6 --count 1000 --cycle 2ms --cpu 1 \
	--txtime --from-qdisc v0 --window 1200us,1300us --offset 50us --wake-advance 1800us --tx-timestamps \
	--log /host/out/trace-etf-send.log | grep -E 'ETF drops|wake-up latency'
echo 0 >$T/tracing_on
wait "$rpid"
kill "$load"
cat $T/trace >/host/out/trace-etf.txt
grep -h overrun $T/per_cpu/cpu*/stats | sort | uniq -c | sed 's/^/trace buffer: /'

# The summary. A trace line: COMM-PID [CPU] FLAGS SECONDS: EVENT: FIELDS. The first pass prints one
# line per release (delay, CPU, tick nearby) and counts the received frames; the second takes the
# percentiles of the sorted delays.
awk '
function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
# b - a for two TAI nanosecond counts less than 1000 s apart (awk numbers are doubles: 1.8e18 would
# lose the last 8 bits, so only their last 12 digits are subtracted).
function diff(b, a,   d) { d = substr(b, length(b) - 11) - substr(a, length(a) - 11); return d < -5e11 ? d + 1e12 : d }
{
	if (!match($0, /\[[0-9]+\]/)) next
	cpu = substr($0, RSTART + 1, RLENGTH - 2) + 0
	if (!match($0, / [0-9]+\.[0-9]+: /)) next
	t = substr($0, RSTART + 1, RLENGTH - 3); p = index(t, ".")
	t = substr(t, 1, p - 1) * 1000000 + substr(t, p + 1) # microseconds
}
/ hrtimer_start: / && /function=qdisc_watchdog / { expires[field("hrtimer")] = field("expires") }
/ hrtimer_expire_entry: / && /function=tick_nohz_handler / { tick[cpu] = t }
/ hrtimer_expire_entry: / && /function=qdisc_watchdog / {
	h = field("hrtimer")
	if (!(h in expires)) next
	print diff(field("now"), expires[h]), cpu, ((cpu in tick) && t - tick[cpu] <= 20) ? 1 : 0
	delete expires[h]
}
/ netif_receive_skb: / && /dev=v1 / { rx++; if ($1 ~ /^ksoftirqd/) ksoft++ }
END { printf "received %d %d\n", rx, ksoft > "/tmp/trace-etf-rx" }' /host/out/trace-etf.txt | sort -n >/tmp/trace-etf-releases
read -r _ rx ksoft </tmp/trace-etf-rx
awk -v rx="$rx" -v ksoft="$ksoft" '
{ d[NR] = $1; on[$2]++; if ($3) ticks++ }
END {
	if (NR == 0) { print "no ETF release in the trace"; exit 1 }
	printf "ETF releases: %d, the watchdog fired on", NR; for (c in on) printf " CPU %d (%d)", c, on[c]; print ""
	printf "release interrupt late by (ns): min %d  p50 %d  p90 %d  p99 %d  max %d\n", d[1], d[int(NR / 2) + 1], d[int(NR * 0.9) + 1], d[int(NR * 0.99) + 1], d[NR]
	for (i = 1; i <= NR; i++) if (d[i] - d[1] > 500) late++
	printf "released over 0.5 us later than the fastest: %d; with the tick on that CPU within 20 us before: %d\n", late, ticks
	printf "frames received on v1: %d, of them by ksoftirqd (NET_RX deferred): %d\n", rx, ksoft
}' /tmp/trace-etf-releases
