package deviceplugin

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

// classDir makes a /sys/class/ptp of the named entries.
func classDir(t *testing.T, names ...string) string {
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPHCs(t *testing.T) {
	got, err := PHCs(classDir(t, "ptp10", "ptp2", "ptp0", "ptpx", "ptp3a", "other"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/dev/ptp0", "/dev/ptp2", "/dev/ptp10"}; !slices.Equal(got, want) {
		t.Fatalf("PHCs = %q, want %q", got, want)
	}
	if got, err := PHCs(filepath.Join(t.TempDir(), "none")); err != nil || got != nil {
		t.Fatalf("PHCs of a missing class directory = %q, %v; want none, no error", got, err)
	}
}

// kubelet is the kubelet's registration service, as the device manager serves it.
type kubelet struct {
	pluginapi.UnimplementedRegistrationServer
	reqs chan *pluginapi.RegisterRequest
}

func (k *kubelet) Register(_ context.Context, r *pluginapi.RegisterRequest) (*pluginapi.Empty, error) {
	k.reqs <- r
	return &pluginapi.Empty{}, nil
}

// TestPluginServesTheKubelet runs the plugin against a kubelet's registration socket over real
// gRPC (the kubelet's side of the API, as its device manager speaks it), then asks the plugin
// what the kubelet asks: the devices and an allocation. Deleting the plugin's socket (what a
// restarting kubelet does) must make it register again.
func TestPluginServesTheKubelet(t *testing.T) {
	dir, err := os.MkdirTemp("", "dp") // short: a unix socket's path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "kubelet.sock"))
	if err != nil {
		t.Fatal(err)
	}
	k := &kubelet{reqs: make(chan *pluginapi.RegisterRequest, 4)}
	srv := grpc.NewServer()
	pluginapi.RegisterRegistrationServer(srv, k)
	go srv.Serve(l)
	defer srv.Stop()

	class := classDir(t, "ptp0", "ptp1")
	ctx, cancel := context.WithCancel(context.Background())
	p := &Plugin{Dir: dir, ClassDir: class, Check: 50 * time.Millisecond}
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	registered := func() *pluginapi.RegisterRequest {
		t.Helper()
		select {
		case r := <-k.reqs:
			return r
		case err := <-ran:
			t.Fatalf("Run returned %v before registering", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no registration within 10 s")
		}
		return nil
	}
	r := registered()
	if r.Version != pluginapi.Version || r.Endpoint != Socket || r.ResourceName != ResourceName {
		t.Fatalf("registration %v, want version %s, endpoint %s, resource %s", r, pluginapi.Version, Socket, ResourceName)
	}

	conn, err := grpc.NewClient("unix://"+filepath.Join(dir, Socket), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pluginapi.NewDevicePluginClient(conn)
	stream, err := c.ListAndWatch(ctx, &pluginapi.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Devices) != 1 || list.Devices[0].ID != DeviceID || list.Devices[0].Health != pluginapi.Healthy {
		t.Fatalf("ListAndWatch = %v, want the one healthy device %q", list.Devices, DeviceID)
	}
	// A clock that appears after the start is in the next allocation.
	os.Mkdir(filepath.Join(class, "ptp4"), 0o755)
	alloc, err := c.Allocate(ctx, &pluginapi.AllocateRequest{ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: []string{DeviceID}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range alloc.ContainerResponses[0].Devices {
		if d.ContainerPath != d.HostPath || d.Permissions != "rw" {
			t.Fatalf("device spec %v: want the host's path in the container, rw", d)
		}
		got = append(got, d.HostPath)
	}
	if want := []string{"/dev/ptp0", "/dev/ptp1", "/dev/ptp4"}; !slices.Equal(got, want) {
		t.Fatalf("Allocate gave %q, want %q", got, want)
	}
	if _, err := c.Allocate(ctx, &pluginapi.AllocateRequest{ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: []string{"ptp0"}}}}); err == nil {
		t.Fatal("Allocate of an unknown device id: no error")
	}

	os.Remove(filepath.Join(dir, Socket)) // the kubelet restarts
	if r := registered(); r.ResourceName != ResourceName {
		t.Fatalf("second registration %v", r)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, Socket)); !os.IsNotExist(err) {
		t.Fatalf("the plugin's socket is left behind: %v", err)
	}
}

// TestBadDirStops: a --dir where the plugin cannot make its socket (a regular file, a path too
// long for a unix socket, a directory that does not exist) ends Run with an error naming dir,
// instead of retrying forever; only the kubelet's absence is waited out.
func TestBadDirStops(t *testing.T) {
	tmp := t.TempDir()
	class := filepath.Join(tmp, "class")
	os.MkdirAll(filepath.Join(class, "ptp0"), 0o755)
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0o644)
	long := filepath.Join(tmp, strings.Repeat("d", 120))
	os.MkdirAll(long, 0o755)
	for _, dir := range []string{file, long, filepath.Join(tmp, "missing")} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := (&Plugin{Dir: dir, ClassDir: class, Check: 10 * time.Millisecond}).Run(ctx)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), "dir "+dir+": cannot make the plugin's socket there") {
			t.Errorf("dir %s: %v, want an error naming the parameter dir (tsnctl's --dir)", dir, err)
		}
	}
	// The kubelet not there yet: Run keeps trying until it is stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := (&Plugin{Dir: tmp, ClassDir: class, Check: 10 * time.Millisecond}).Run(ctx); err != nil {
		t.Errorf("without a kubelet: %v, want Run to wait until stopped", err)
	}
}
