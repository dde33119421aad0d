# Sourced by kube's guest scripts (the repository is /src in a lab guest): the steps the host's
# test waits for (kube's guestSteps reads /host/step) and the NIC that leads to the host.
say() { echo "$1" >/host/step; echo "guest: $1"; }
waitfor() { # waitfor SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; on timeout, its last
	# output goes to /host/timeout.txt (the host's test shows it)
	local end=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/tmp/waitfor.out 2>&1; do
		if [ $SECONDS -ge $end ]; then
			{ echo "\$ $*"; cat /tmp/waitfor.out; } >/host/timeout.txt
			say "timeout: $what"
			exit 1
		fi
		sleep 0.2
	done
}
# host_nic: the NIC with MAC 52:54:00:00:01:02 (testbed/run --host-port) gets 10.0.2.15/24; the
# host's API server is at 10.0.2.100 on it. Its name is in $nic.
host_nic() {
	nic=$(ip -o link | grep -i 52:54:00:00:01:02 | sed 's/^[0-9]*: \([^:@]*\).*/\1/')
	[ -n "$nic" ] || { say "no NIC to the host"; exit 1; }
	ip addr add 10.0.2.15/24 dev "$nic" && ip link set "$nic" up
}
