package agent

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tsnctl/tsnctl/nsexec"
)

// claimName is the abstract unix socket an agent binds in the network namespace it manages.
// Abstract names belong to a network namespace, not to a file system or a mount or PID namespace:
// two agents on one namespace find each other whatever their status paths, run directories or
// containers (a pod beside the systemd service), and the kernel drops the name when the first
// agent's process ends, however it ends.
const claimName = "\x00tsnctl-agent"

// claimNetNS makes this process the one agent of network namespace netns ("" the caller's): it
// returns a release function, or, when another agent holds the namespace, an error naming it.
// Two agents on one namespace undo each other's repairs forever (each channel change resets a
// real NIC's link).
func claimNetNS(netns string) (release func(), err error) {
	var fd int
	err = nsexec.Do(netns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err = unix.Bind(fd, &unix.SockaddrUnix{Name: claimName}); err == nil {
			err = unix.Listen(fd, 8) // so that a second agent can connect and learn who holds it
		}
		if err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EADDRINUSE) {
				return holder(netns)
			}
			return fmt.Errorf("claiming the network namespace for this agent: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func() { unix.Close(fd) }, nil
}

// holder connects to the claim (from inside the namespace) and names the agent holding it.
func holder(netns string) error {
	where := "this network namespace"
	if netns != "" {
		where = "network namespace " + netns
	}
	who := "another tsnctl agent"
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
		defer unix.Close(fd)
		if unix.Connect(fd, &unix.SockaddrUnix{Name: claimName}) == nil {
			if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
				if cred.Pid > 0 {
					who = fmt.Sprintf("another tsnctl agent (pid %d)", cred.Pid)
				} else {
					who = "another tsnctl agent (in another PID namespace: a container or pod)"
				}
			}
		}
	}
	return fmt.Errorf("%s already manages %s: two agents would undo each other's changes forever; stop one (systemctl stop tsnctl, or the chart's DaemonSet on this node)", who, where)
}
