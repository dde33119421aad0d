#!/bin/bash
# A lab guest as a real Kubernetes node (kube's TestLabDaemonSetOnARealNode drives it): containerd
# (CRI, runc without pivot_root: the root is the initramfs; the native snapshotter; the sandbox image
# testbed/pause's, imported with tsnctl's image from /host) and kubelet, registering as lab1 with the
# host's API server at 10.0.2.100 (the one forwarded port; /host/kubelet.kubeconfig), which pods
# reach as apiserver.tsnctl.test (/etc/hosts). Binaries in /host/bin; containerd's and kubelet's logs
# in /host. Steps are said in /host/step; the host says go in /host/go.
set -u
. /src/kube/testdata/guest.sh
host_nic
ip route add default via 10.0.2.2 dev "$nic" 2>/dev/null || true
ip link set lo up
ip link set eth0 up # the agent's ptp4l port (its configuration is for eth1)
echo "10.0.2.100 apiserver.tsnctl.test" >>/etc/hosts
mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
echo "+cpu +memory +pids +cpuset +io" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
cat /sys/fs/cgroup/cgroup.controllers
: >/etc/resolv.conf # kubelet gives pods the node's (empty: the guest has no DNS)
mkdir -p /etc/containerd /var/lib/containerd /run/containerd /var/lib/kubelet /etc/cni/net.d /opt/cni/bin
# The images and each container's copy of its image (the native snapshotter copies), in memory
# (testbed/run --mem 2048): the initramfs root holds half the guest's memory.
mount -t tmpfs -o size=1200m containerd /var/lib/containerd
cat >/etc/containerd/config.toml <<'TOML'
version = 3
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  NoPivotRoot = true # the guest's root is the initramfs: pivot_root refuses it
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "native"
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "tsnctl.test/pause:lab"
[plugins."io.containerd.transfer.v1.local"]
  unpack_config = [{platform = "linux/amd64", snapshotter = "native"}]
TOML
export PATH=/host/bin:$PATH
# The pods' network: a veth and an address each (CNI ptp, host-local), no route out of the node.
cp /host/bin/loopback /host/bin/ptp /host/bin/host-local /opt/cni/bin/
echo '{"cniVersion": "1.0.0", "name": "lab", "plugins": [{"type": "ptp",
	"ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/24"}]]}}]}' >/etc/cni/net.d/10-lab.conflist
containerd --config /etc/containerd/config.toml >/host/containerd.log 2>&1 &
for _ in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
for image in /host/pause.tar /host/tsnctl-image.tar; do
	ctr -n k8s.io images import --snapshotter native "$image" || echo "guest: cannot import $image"
done
ctr -n k8s.io images ls -q
cat >/var/lib/kubelet/config.yaml <<'YAML'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
localStorageCapacityIsolation: false
evictionHard: {}
YAML
kubelet() {
	/host/bin/kubelet --kubeconfig /host/kubelet.kubeconfig --config /var/lib/kubelet/config.yaml --hostname-override lab1 \
		--node-ip 10.0.2.15 -v 2 >>/host/kubelet.log 2>&1 &
	kubelet=$!
}
kubelet
# The pods' logs, which kubectl cannot fetch (the API server cannot reach this kubelet), for the host.
while sleep 5; do
	for c in agent device-plugin; do
		cat /var/log/pods/tsnctl-system_tsnctl-*/"$c"/*.log >"/host/$c.log" 2>/dev/null
	done
done </dev/null >/dev/null 2>&1 &
logs=$!
tsnctl check --nfd /host/nfd -o json >/host/check-node.json
say node

waitfor 600 "the host's go for the check" grep -q -e check -e stop /host/go
grep -q stop /host/go && exit 1
# tsnctl check in the agent's running container: its namespaces, device cgroup and capabilities.
agent=$(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==agent' | head -1)
[ -n "$agent" ] || { say "timeout: no agent container"; exit 1; }
ctr -n k8s.io tasks exec --exec-id check "$agent" /usr/bin/tsnctl check -o json >/host/check-agent.json
echo "guest: tsnctl check in the agent's container exited $?"
tc -j -d qdisc show dev eth1 >/host/applied.json
# A kubelet restart deletes the device plugins' sockets: the plugin must serve and register again.
plugin=/var/lib/kubelet/device-plugins/tsnctl-phc.sock
before=$(stat -c %i "$plugin")
kill $kubelet
wait $kubelet
kubelet
waitfor 120 "the device plugin's socket again after the kubelet's restart" sh -c "[ -S $plugin ] && [ \"\$(stat -c %i $plugin)\" != $before ]"
say checked

waitfor 600 "the host's stop" grep -q stop /host/go
kill $logs
echo "guest: done"
