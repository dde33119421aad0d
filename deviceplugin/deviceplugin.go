// Package deviceplugin is tsnctl's kubelet device plugin: it hands a node's PTP hardware clocks
// (/dev/ptpN) to the pod that runs tsnctl's agent, so that ptp4l and phc2sys can open them in an
// unprivileged container. A hostPath volume alone does not do it: the container runtime's device
// rules refuse the open(2) of a device node it was not told about. A device plugin tells it: the
// kubelet passes the plugin's device specs to the runtime, which creates the nodes in the container
// and allows them, read-write, and nothing else.
//
// The resource is tsnctl.io/phc with one device per node, "all": every PHC of the node, as found
// when the container starts. It is one device on purpose: the agent needs the clocks of whatever
// interfaces its configuration names, which the pod cannot know, and one device means one holder
// per node — a second agent (two ptp4l steering one clock) cannot be scheduled there. A node
// without a PHC offers the device too, empty: the agent runs there with software timestamping.
//
// The plugin speaks the kubelet's device plugin API v1beta1 (k8s.io/kubelet): it serves on a socket
// in the kubelet's device-plugin directory, registers on the kubelet's socket there, and
// registers again when the kubelet restarts (which deletes the plugins' sockets).
package deviceplugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/tsnctl/tsnctl/param"
)

const (
	// ResourceName is the extended resource a pod asks for: resources.limits: {tsnctl.io/phc: 1}.
	ResourceName = "tsnctl.io/phc"
	// DeviceID is the one device a node offers: all its PHCs.
	DeviceID = "all"
	// Socket is the plugin's socket's name in the kubelet's device-plugin directory.
	Socket = "tsnctl-phc.sock"
	// DefaultClassDir is where the kernel lists the PHCs: ptp0, ptp1, ...
	DefaultClassDir = "/sys/class/ptp"
)

// PHCs returns the device nodes of the PHCs listed in classDir (sysfs' /sys/class/ptp: one
// entry ptpN per clock, whose node is /dev/ptpN), in their numbers' order.
func PHCs(classDir string) ([]string, error) {
	entries, err := os.ReadDir(classDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no PTP support loaded: no clock
	}
	if err != nil {
		return nil, err
	}
	var n []int
	for _, e := range entries {
		var i int
		if _, err := fmt.Sscanf(e.Name(), "ptp%d", &i); err == nil && e.Name() == fmt.Sprintf("ptp%d", i) {
			n = append(n, i)
		}
	}
	slices.Sort(n)
	devs := make([]string, len(n))
	for k, i := range n {
		devs[k] = fmt.Sprintf("/dev/ptp%d", i)
	}
	return devs, nil
}

// ContainerResponse is the allocation for one container: each clock's node at its own path,
// read-write (ptp4l and phc2sys open it O_RDWR: clock_adjtime steers it).
func ContainerResponse(devs []string) *pluginapi.ContainerAllocateResponse {
	r := &pluginapi.ContainerAllocateResponse{}
	for _, d := range devs {
		r.Devices = append(r.Devices, &pluginapi.DeviceSpec{ContainerPath: d, HostPath: d, Permissions: "rw"})
	}
	return r
}

// Plugin is the device plugin of one node.
type Plugin struct {
	// Dir is the kubelet's device-plugin directory (pluginapi.DevicePluginPath): the kubelet's
	// socket is there and the plugin's goes there.
	Dir string
	// ClassDir lists the PHCs (DefaultClassDir).
	ClassDir string
	// Check is how often the plugin looks whether the kubelet deleted its socket (a kubelet
	// restart: it registers again) and whether the clocks changed (default 2 s).
	Check time.Duration
	Log   *slog.Logger
}

// Run serves and registers the plugin until ctx ends, registering again whenever the kubelet
// restarts; an error of a single registration is logged and retried. Its socket is removed when
// it returns.
func (p *Plugin) Run(ctx context.Context) error {
	if p.Check == 0 {
		p.Check = 2 * time.Second
	}
	if p.ClassDir == "" {
		p.ClassDir = DefaultClassDir
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	devs, err := PHCs(p.ClassDir)
	if err != nil {
		return fmt.Errorf("listing the PHCs: %w", err)
	}
	p.Log.Info("device plugin", "resource", ResourceName, "clocks", strings.Join(devs, " "))
	for {
		err := p.serve(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var se socketError
		if errors.As(err, &se) {
			// Not the kubelet's doing, and no retry mends it (a file, a read-only or foreign
			// directory, a path too long for a socket): stop, and say so.
			return param.Errorf("dir", p.Dir, "cannot make the plugin's socket there: %w", se.error)
		}
		p.Log.Warn("device plugin: serving again", "reason", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.Check):
		}
	}
}

// serve serves on a fresh socket and registers with the kubelet; it returns when ctx ends or the
// socket is gone (the kubelet restarted).
func (p *Plugin) serve(ctx context.Context) error {
	path := filepath.Join(p.Dir, Socket)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return socketError{err}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return socketError{err}
	}
	st, err := os.Stat(path)
	if err != nil {
		l.Close()
		return socketError{err}
	}
	srv := grpc.NewServer()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pluginapi.RegisterDevicePluginServer(srv, &server{p: p, done: ctx.Done()})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Stop()
		if cur, err := os.Stat(path); err == nil && os.SameFile(cur, st) {
			os.Remove(path)
		}
	}()
	if err := p.register(ctx); err != nil {
		return err
	}
	p.Log.Info("device plugin registered with the kubelet", "socket", path)
	tick := time.NewTicker(p.Check)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-served:
			return fmt.Errorf("gRPC server: %w", err)
		case <-tick.C:
			if cur, err := os.Stat(path); err != nil || !os.SameFile(cur, st) {
				return fmt.Errorf("%s is gone: the kubelet restarted", path)
			}
		}
	}
}

// socketError is a failure to make the plugin's own socket: the directory, not the kubelet.
type socketError struct{ error }

// register tells the kubelet about the plugin.
func (p *Plugin) register(ctx context.Context) error {
	conn, err := grpc.NewClient("unix://"+filepath.Join(p.Dir, filepath.Base(pluginapi.KubeletSocket)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
		Version: pluginapi.Version, Endpoint: Socket, ResourceName: ResourceName,
		Options: &pluginapi.DevicePluginOptions{}})
	if err != nil {
		return fmt.Errorf("registering with the kubelet: %w", err)
	}
	return nil
}

// server answers the kubelet.
type server struct {
	pluginapi.UnimplementedDevicePluginServer
	p    *Plugin
	done <-chan struct{}
}

func (s *server) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return &pluginapi.DevicePluginOptions{}, nil
}

// ListAndWatch offers the one device, always healthy, and logs when the clocks change: a pod
// holding the device keeps the clocks it started with.
func (s *server) ListAndWatch(_ *pluginapi.Empty, stream pluginapi.DevicePlugin_ListAndWatchServer) error {
	if err := stream.Send(&pluginapi.ListAndWatchResponse{Devices: []*pluginapi.Device{{ID: DeviceID, Health: pluginapi.Healthy}}}); err != nil {
		return err
	}
	last, _ := PHCs(s.p.ClassDir)
	tick := time.NewTicker(s.p.Check)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return nil
		case <-stream.Context().Done():
			return nil
		case <-tick.C:
			if cur, err := PHCs(s.p.ClassDir); err == nil && !slices.Equal(cur, last) {
				s.p.Log.Warn("the node's PHCs changed: a pod holding "+ResourceName+" keeps the clocks it started with; restart it to get these",
					"was", strings.Join(last, " "), "now", strings.Join(cur, " "))
				last = cur
			}
		}
	}
}

func (s *server) GetPreferredAllocation(context.Context, *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	return &pluginapi.PreferredAllocationResponse{}, nil
}

// Allocate gives each container every clock the node has now.
func (s *server) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	devs, err := PHCs(s.p.ClassDir)
	if err != nil {
		return nil, fmt.Errorf("listing the PHCs: %w", err)
	}
	resp := &pluginapi.AllocateResponse{}
	for _, c := range req.ContainerRequests {
		for _, id := range c.DevicesIds {
			if id != DeviceID {
				return nil, fmt.Errorf("%s has one device, %q, not %q", ResourceName, DeviceID, id)
			}
		}
		resp.ContainerResponses = append(resp.ContainerResponses, ContainerResponse(devs))
	}
	s.p.Log.Info("allocated", "resource", ResourceName, "clocks", strings.Join(devs, " "), "containers", len(req.ContainerRequests))
	return resp, nil
}

func (s *server) PreStartContainer(context.Context, *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	return &pluginapi.PreStartContainerResponse{}, nil
}
