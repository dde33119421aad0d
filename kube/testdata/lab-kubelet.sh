#!/bin/bash
# A lab guest as a real Kubernetes node (kube's TestLabKubeletRunsTheImage drives it): containerd
# (CRI, runc without pivot_root: the root is the initramfs; the native snapshotter; the sandbox image
# testbed/pause's, imported with tsnctl's image from /host) and kubelet, registering as lab1 with the
# host's API server at 10.0.2.100 (the one forwarded port; /host/kubelet.kubeconfig). Binaries in
# /host/bin; containerd's and kubelet's logs in /host. Runs until the host writes /host/go.
set -u
nic=$(ip -o link | grep -i 52:54:00:00:01:02 | sed 's/^[0-9]*: \([^:@]*\).*/\1/')
ip addr add 10.0.2.15/24 dev "$nic" && ip link set "$nic" up
ip route add default via 10.0.2.2 dev "$nic" 2>/dev/null || true
ip link set lo up
mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
echo "+cpu +memory +pids +cpuset +io" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
cat /sys/fs/cgroup/cgroup.controllers
: >/etc/resolv.conf # kubelet gives pods the node's (empty: the guest has no DNS)
mkdir -p /etc/containerd /var/lib/containerd /run/containerd /var/lib/kubelet /etc/cni/net.d /opt/cni/bin
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
# Host-network pods only: a loopback-only CNI network, so that the runtime reports its network ready.
cp /host/bin/loopback /opt/cni/bin/
echo '{"cniVersion": "1.0.0", "name": "lo", "plugins": [{"type": "loopback"}]}' >/etc/cni/net.d/00-lo.conflist
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
kubelet --kubeconfig /host/kubelet.kubeconfig --config /var/lib/kubelet/config.yaml --hostname-override lab1 \
	--node-ip 10.0.2.15 -v 2 >/host/kubelet.log 2>&1 &
for _ in $(seq 1200); do [ -e /host/go ] && break; sleep 0.5; done
echo "guest: done"
