#!/bin/bash
# The agent on a lab guest's real TSN kernel, its configuration and status in the host's API server
# (kube's TestLabAgentOnKubernetes drives it). The host's API server is at 10.0.2.100 on the NIC
# with MAC 52:54:00:00:01:02 (testbed/run --host-port); /host/agent.kubeconfig holds the address,
# the CA and a token bound to the fake node's pod. Steps are said in /host/step; the host says
# go in /host/go.
set -u
. /src/kube/testdata/guest.sh
hash() { tsnctl status 2>/dev/null | sed -n 's/.*(sha256 \([0-9a-f]*\)).*/\1/p'; }

host_nic
ip link set eth0 up # ptp4l's port (the agent configures eth1)
# The forwarded port is the only way out: the host's user-network gateway refuses the same port.
port=$(sed -n 's/.*server: https:\/\/10.0.2.100:\([0-9]*\).*/\1/p' /host/agent.kubeconfig)
if timeout 5 bash -c "exec 3<>/dev/tcp/10.0.2.2/$port" 2>/dev/null; then say "leak: 10.0.2.2:$port is reachable"; exit 1; fi
timeout 5 bash -c "exec 3<>/dev/tcp/10.0.2.100/$port" || { say "the API server's port is not reachable"; exit 1; }
echo "guest: only 10.0.2.100:$port leads out"

tsnctl agent --kubernetes --kubeconfig /host/agent.kubeconfig --node-name tsn-1 --log-format text >/host/agent.log 2>&1 &
agent=$!
waitfor 180 "the agent ready (configured and LOCKED)" tsnctl status
tc -j -d qdisc show dev eth1 >/host/applied.json
ip -j -d link show eth1.3 >/host/vlan.json
first=$(hash)
say configured

# The drift: the VLAN deleted (not the taprio root: deleting a running software taprio root with
# an ETF child panicked this guest's kernel in taprio_dequeue_from_txq, in 2 of 20 runs of
# this real-time test; the agent's lab tests delete roots in virtual time).
waitfor 120 "the host's go for the drift" grep -q drift /host/go
ip link del dev eth1.3
waitfor 60 "the VLAN back" ip link show dev eth1.3
waitfor 60 "ready after the repair" tsnctl status
say repaired

waitfor 120 "the edited configuration in force" sh -c "[ \"\$(tsnctl status 2>/dev/null | sed -n 's/.*(sha256 \([0-9a-f]*\)).*/\1/p')\" != '$first' ] && tsnctl status"
tc -j -d qdisc show dev eth1 >/host/edited.json
tsnctl status >/host/status.txt
say edited
kill "$agent"
wait "$agent"
echo "guest: agent stopped with $?"
