#!/bin/bash
# Both guests: address eth1, ping the other guest across the dgram cable, read and compare each PHC.
set -euo pipefail
ip addr add "10.99.0.$LAB_VM/24" dev eth1
ip link set eth1 up
peer=10.99.0.$((3 - LAB_VM))
for i in $(seq 20); do ping -c 1 -W 1 "$peer" >/dev/null 2>&1 && break; sleep 0.5; done
ping -c 3 -W 2 "$peer"
phc=/dev/ptp$(ethtool -T eth1 | sed -n 's/PTP Hardware Clock: //p')
phc_ctl "$phc" get cmp
# Stay up until the peer has pinged us too.
sleep 3
