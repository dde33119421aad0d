#!/bin/sh
# A POSIX-shell script must get iproute2's tools, not busybox's applets of the same name.
ip -V | grep iproute2 || { echo "ip is not iproute2's: $(ip -V 2>&1 | head -n 2)"; exit 3; }
ip link add h0 numtxqueues 4 type veth peer name h1 numtxqueues 4 || exit 4
tc qdisc add dev h0 root handle 100: mqprio num_tc 2 map 0 1 queues 2@0 2@2 hw 0 || exit 5
tc -j qdisc show dev h0 | grep -q '"kind":"mqprio"' || exit 6
echo "sh: iproute2 ok"
