package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ptp/watch"
	"github.com/tsnctl/tsnctl/receiver"
	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/tsnctl/tsnctl/sender"
	"github.com/tsnctl/tsnctl/termsafe"
	"golang.org/x/sys/unix"
)

// labelFlag collects --label KEY=VALUE (repeatable; the value may contain '=' and ',').
type labelFlag struct{ m map[string]string }

func (f *labelFlag) String() string { return "" }
func (f *labelFlag) Type() string   { return "KEY=VALUE" }
func (f *labelFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || len(s) > 512 {
		return fmt.Errorf("want KEY=VALUE (at most 512 bytes), e.g. --label \"time base=guest virtual time\"")
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[k] = v
	return nil
}

// durationFlag is a pflag value taking tsnctl's duration words (200us, 5ms, plain ns).
type durationFlag struct{ d *int64 }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0"
	}
	return configs.Duration(*f.d).String()
}
func (f durationFlag) Set(s string) error {
	d, err := configs.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 200us or 2ms")
	}
	*f.d = int64(d)
	return nil
}
func (f durationFlag) Type() string { return "duration" }

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// sendOptions are tsnctl send's flags.
type sendOptions struct {
	cfg                    sender.Config
	t                      sender.Timing
	fromQdisc, logPath     string
	labels                 labelFlag
	requireSync, quiet     bool
	syncTimeout            time.Duration
	onSyncLoss, syncStatus string
	stream, file           string // --stream: an id, or with -f the names of the file's streams
	reserve, socket        string // --reserve NAME -f FILE: FILE's stream NAME, admitted by the agent
}

func sendCmd() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send --dest HOST:PORT [--txtime] [--window START,END --offset D | --from-qdisc IF] [flags] | send --stream NAME[,NAME...] -f FILE [flags]",
		Short: "Send a cyclic stream of test packets (or planned streams), optionally launched by ETF at their SO_TXTIME",
		Long: `send sends one packet (or --per-cycle packets) every --cycle over UDP. Cycles are aligned to
--base-time in TAI (default: whole cycles since the TAI epoch, as taprio's base-time: auto), so the
sender and the gates agree. With --txtime each packet carries its launch time (SCM_TXTIME on
CLOCK_TAI): the start of its window plus --offset; the sender wakes --wake-advance before it with
clock_nanosleep(TIMER_ABSTIME). Without --txtime it wakes at the cycle start and sends at once (the
seed's case 1). --from-qdisc IF takes the base-time from the taprio installed on IF and checks the
stream against it: --cycle must be a whole multiple of its cycle (default: its cycle), --window
must lie inside an open window of the traffic class --priority maps to (default: the class's first
window), and every txtime is checked against the installed gates.

Every packet carries a header (stream, sequence, cycle start, wake-up, send call, txtime). The
socket's error queue is read every cycle: ETF drops (missed deadline, invalid parameter) and TX
timestamps are attributed to their sequence numbers. --log FILE writes every event to a sample
log (tsnctl dump FILE reads it). The sending thread is locked, optionally SCHED_FIFO (--fifo) and
pinned (--cpu); memory is locked and the loop does not allocate.

--reserve NAME -f FILE asks the running agent (--admission-socket) to admit FILE's stream NAME on
an interface whose plan: reserves admission:, waits until the window the agent gives it opens, and
sends it with the agent's socket priority, VLAN interface and txtime; the stream is released when
send ends (after the agent's grace period). No root, no reload.

--stream NAME[,NAME...] -f FILE sends streams of FILE's streams: as planned (tsnctl plan -f FILE
shows the rows): each its period from base-time auto, its frames and size, its priority, its txtime
in the period (SO_TXTIME on), through its VLAN interface (UDP) or tagged on the port (raw, dest a
MAC), each packet with the stream's id (1, 2, ... in the order of the names of FILE's streams).
Several streams go from one loop, their cycles merged in time order; --count is per stream. The
flags that say what the plan says (--dest, --cycle, --window, --offset, ...) are refused with it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	// Defaults first: help shows what the flag values hold when they are registered (the seed's;
	// those not given are derived again from what is given, in timing).
	o.t.Cycle = sender.SeedCycle
	o.t.WindowStart, o.t.WindowEnd = sender.DefaultWindow(o.t.Cycle)
	o.t.Offset = sender.DefaultOffset(o.t.WindowStart, o.t.WindowEnd)
	o.t.WakeAdvance = sender.DefaultWakeAdvance(o.t.Cycle)
	f := cmd.Flags()
	f.StringVar(&o.cfg.Dest, "dest", "", "destination IPv4 host:port (UDP)")
	f.BoolVar(&o.cfg.Raw, "raw", false, "send raw Ethernet frames (EtherType 0x88B5) on --iface through AF_PACKET instead of UDP")
	f.Var(macFlag{&o.cfg.DestMAC}, "dest-mac", "with --raw: destination MAC address")
	f.Uint16Var(&o.cfg.VLAN, "vlan", 0, "with --raw: 802.1Q VLAN id of the frames (0: untagged)")
	f.Uint8Var(&o.cfg.PCP, "pcp", 0, "with --raw: 802.1Q priority code point (0-7)")
	f.StringVar(&o.cfg.Iface, "iface", "", "send through this interface (e.g. the VLAN interface eth1.3)")
	f.IntVar(&o.cfg.Priority, "priority", -1, "socket priority (SO_PRIORITY): chooses the taprio traffic class and, through the VLAN egress map, the PCP")
	f.Var(durationFlag{&o.t.Cycle}, "cycle", "cycle time")
	f.Var(windowFlag{&o.t}, "window", "transmit window START,END in the cycle; not given: 60% to 65% of --cycle")
	f.Var(durationFlag{&o.t.Offset}, "offset", "txtime's offset in the window; not given: at most half the window")
	f.IntVar(&o.t.PerCycle, "per-cycle", 1, "packets per cycle")
	f.Var(durationFlag{&o.t.Spacing}, "spacing", "between the packets of one cycle")
	f.BoolVar(&o.t.Txtime, "txtime", false, "SO_TXTIME: give each packet its launch time (needs CAP_NET_ADMIN)")
	f.BoolVar(&o.cfg.DeadlineMode, "deadline-mode", false, "SOF_TXTIME_DEADLINE_MODE: the txtime is a deadline")
	f.Var(durationFlag{&o.t.WakeAdvance}, "wake-advance", "with --txtime: wake this long before the txtime; not given: at most a quarter of --cycle")
	f.Var(baseTimeFlag{&o.t.BaseTime}, "base-time", "TAI ns the cycles count from (auto: the TAI epoch, as taprio's auto)")
	f.StringVar(&o.fromQdisc, "from-qdisc", "", "take base-time (and, unless given, cycle and window) from the taprio on this interface and check the stream against its gates")
	f.Int64Var(&o.cfg.Count, "count", 1000, "packets to send (0: until --duration or Ctrl-C)")
	f.DurationVar(&o.cfg.Duration, "duration", 0, "how long to send (0: --count decides)")
	f.IntVar(&o.cfg.Size, "size", 64, "UDP payload bytes")
	f.StringVar(&o.stream, "stream", "0", "stream id written in every packet; with -f FILE: the names of FILE's streams to send, NAME[,NAME...]")
	f.StringVarP(&o.file, "file", "f", "", "with --stream NAME: the configuration whose planned streams to send; with --reserve NAME: the file that describes the stream")
	f.StringVar(&o.reserve, "reserve", "", "with -f FILE: have the agent admit FILE's stream NAME on its admission socket, then send it as admitted, from when its window opens; released when send ends")
	f.StringVar(&o.socket, "socket", admission.DefaultSocket, "with --reserve: the agent's admission socket")
	f.IntVar(&o.cfg.FIFO, "fifo", 0, "SCHED_FIFO priority of the sending thread (0: normal scheduling)")
	f.IntVar(&o.cfg.CPU, "cpu", -1, "pin the sending thread to this CPU (and, while it runs, the process's other threads)")
	f.BoolVar(&o.cfg.TxTimestamps, "tx-timestamps", false, "record TX timestamps (hardware where the NIC gives them)")
	f.StringVar(&o.logPath, "log", "", "write a sample log to FILE")
	f.Var(&o.labels, "label", "KEY=VALUE written into the sample log's header and shown with the run in reports (repeatable)")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line")
	f.StringVar(&o.cfg.NetNS, "netns", "", "send from this network namespace (ip netns name)")
	f.BoolVar(&o.requireSync, "require-sync", false, "wait until time sync is LOCKED (tsnctl ptp run/watch) before the first packet; watch it during the run")
	f.DurationVar(&o.syncTimeout, "sync-timeout", 2*time.Minute, "with --require-sync: how long to wait for LOCKED")
	choiceFlag(f, &o.onSyncLoss, "on-sync-loss", "with --require-sync, when sync is lost mid-run: mark (send, mark the samples) or pause (skip cycles)", "mark", "pause")
	f.StringVar(&o.syncStatus, "sync-status", watch.DefaultStatusPath, "the sync status tsnctl ptp run/watch publishes")
	f.Int64Var(&o.cfg.LateEvery, "late-every", 0, "with --txtime: give every Nth packet a txtime in the past, to see ETF drops reported")
	return cmd
}

// timing completes the stream's timing: from the taprio on --from-qdisc (the cycle and window
// taken from it unless given) or as the flags say. The defaults of the flags not given are
// derived from the cycle and window in use (a --cycle 1ms cannot hold the seed's 1200-1300 us).
func (o *sendOptions) timing(cmd *cobra.Command) error {
	if o.fromQdisc == "" {
		if !cmd.Flags().Changed("window") {
			o.t.WindowStart, o.t.WindowEnd = sender.DefaultWindow(o.t.Cycle)
		}
		o.defaults(cmd)
		o.cfg.Timing = o.t
		return nil
	}
	if cmd.Flags().Changed("base-time") {
		return fmt.Errorf("--base-time cannot be combined with --from-qdisc, which takes it from the installed schedule")
	}
	var cycle int64
	var win [2]int64
	if cmd.Flags().Changed("cycle") {
		cycle = o.t.Cycle
	}
	if cmd.Flags().Changed("window") {
		win = [2]int64{o.t.WindowStart, o.t.WindowEnd}
	}
	qt, check, swETF, err := sender.FromQdisc(o.cfg.NetNS, o.fromQdisc, o.cfg.Priority, cycle, win)
	if err != nil {
		return err
	}
	o.t.BaseTime, o.t.Cycle, o.t.WindowStart, o.t.WindowEnd = qt.BaseTime, qt.Cycle, qt.WindowStart, qt.WindowEnd
	o.defaults(cmd)
	if w := swETF.EarlyRelease(o.t, o.fromQdisc); w != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
	}
	o.cfg.Timing, o.cfg.Check = o.t, check
	if swETF != nil {
		o.cfg.ETFDelta = swETF.Delta
	}
	return nil
}

// defaults derives --offset and --wake-advance, where not given, from the window and cycle in use.
func (o *sendOptions) defaults(cmd *cobra.Command) {
	if !cmd.Flags().Changed("offset") {
		o.t.Offset = sender.DefaultOffset(o.t.WindowStart, o.t.WindowEnd)
	}
	if !cmd.Flags().Changed("wake-advance") {
		o.t.WakeAdvance = sender.DefaultWakeAdvance(o.t.Cycle)
	}
}

// waitForSync waits for LOCKED (--require-sync) and returns the gate that watches it during the run.
func (o *sendOptions) waitForSync(cmd *cobra.Command) (*watch.Gate, error) {
	if !o.requireSync {
		return nil, nil
	}
	ctx, stop := signalContext()
	defer stop()
	g, err := watch.WaitForSync(ctx, cmd.ErrOrStderr(), o.syncStatus, o.syncTimeout)
	if err != nil {
		return nil, err
	}
	o.cfg.Sync, o.cfg.PauseUnlocked = g.Locked, o.onSyncLoss == "pause"
	return g, nil
}

func (o *sendOptions) run(cmd *cobra.Command) error {
	if o.reserve != "" && o.file == "" {
		return fmt.Errorf("--reserve %s: give -f FILE, a tsnctl file whose streams: describe it", o.reserve)
	}
	if o.file != "" {
		return o.runPlanned(cmd)
	}
	id, err := strconv.ParseUint(o.stream, 10, 32)
	if err != nil {
		return fmt.Errorf("--stream %q: without -f FILE, the stream id written in every packet (0 to 4294967295); stream names go with -f FILE", o.stream)
	}
	o.cfg.Stream = uint32(id)
	if !o.cfg.Raw && (cmd.Flags().Changed("dest-mac") || cmd.Flags().Changed("vlan") || cmd.Flags().Changed("pcp")) {
		return fmt.Errorf("--dest-mac, --vlan and --pcp go with --raw (over UDP, the VLAN interface and its egress-qos-map set them)")
	}
	if err := o.timing(cmd); err != nil {
		return err
	}
	syncWatch, err := o.waitForSync(cmd)
	if err != nil {
		return err
	}
	snd, err := sender.Open(o.cfg)
	if err != nil {
		return err
	}
	defer snd.Close()
	if o.logPath != "" {
		h := samplelog.NewHeader(samplelog.RoleSend, o.cfg.Stream, o.labels.m)
		h.Send = o.cfg.LogParams(o.fromQdisc)
		w, err := samplelog.Create(o.logPath, h)
		if err != nil {
			return err
		}
		defer w.Close()
		snd.SetLog(w)
	}
	ctx, stop := signalContext()
	defer stop()
	if syncWatch != nil {
		go syncWatch.Run(ctx)
	}
	if !o.quiet && isTerminal(os.Stderr) {
		go progress(ctx, cmd.ErrOrStderr(), snd)
	}
	sum, err := snd.Run(ctx)
	sum.Write(cmd.OutOrStdout(), o.cfg)
	return err
}

// progress prints the senders' counters, summed, every second.
func progress(ctx context.Context, w io.Writer, ss ...*sender.Sender) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			var sent, drops, errs, missed uint64
			var worst int64
			for _, s := range ss {
				sent, drops, errs, missed = sent+s.Stats.Sent.Load(), drops+s.Stats.Drops.Load(), errs+s.Stats.Errors.Load(), missed+s.Stats.Missed.Load()
				worst = max(worst, s.Stats.WakeMax.Load())
			}
			fmt.Fprintf(w, "\rsent %d, ETF drops %d, errors %d, missed cycles %d, worst wake-up %.1f us   ", sent, drops, errs, missed, float64(worst)/1e3)
		}
	}
}

func recvCmd() *cobra.Command {
	var cfg receiver.Config
	var logPath string
	var labels labelFlag
	cmd := &cobra.Command{
		Use:   "recv --listen [HOST]:PORT [--iface IF] [--hw-timestamps] [--log FILE]",
		Short: "Receive test packets with RX timestamps; count loss, duplicates, reordering",
		Long: `recv takes tsnctl test packets off a UDP socket with SO_TIMESTAMPING: the NIC's timestamp when it
gives one (--hw-timestamps turns the NIC's RX timestamping on, as ptp4l does), else the kernel's
software timestamp (converted from UTC to TAI with the kernel's TAI offset). Every packet goes to
the sample log; the summary counts loss, duplicates and reordering, and names the timestamp source.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rcv, err := receiver.Open(cfg)
			if err != nil {
				return err
			}
			defer rcv.Close()
			if logPath != "" {
				h := samplelog.NewHeader(samplelog.RoleRecv, 0, labels.m)
				h.Recv = &samplelog.RecvParams{Listen: cfg.Listen, Iface: cfg.Iface, HWTimestamps: cfg.HardwareTimestamps}
				w, err := samplelog.Create(logPath, h)
				if err != nil {
					return err
				}
				defer w.Close()
				rcv.SetLog(w)
			}
			ctx, stop := signalContext()
			defer stop()
			sum, err := rcv.Run(ctx)
			sum.Write(cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", ":7788", "UDP [host]:port to listen on")
	f.StringVar(&cfg.Iface, "iface", "", "receive on this interface only")
	f.Int64Var(&cfg.Count, "count", 0, "stop after this many packets (0: --duration or Ctrl-C)")
	f.DurationVar(&cfg.Duration, "duration", 0, "stop after this long")
	f.BoolVar(&cfg.HardwareTimestamps, "hw-timestamps", false, "turn on the NIC's RX timestamping (needs --iface)")
	f.StringVar(&logPath, "log", "", "write a sample log to FILE")
	f.Var(&labels, "label", "KEY=VALUE written into the sample log's header and shown with the run in reports (repeatable)")
	f.StringVar(&cfg.NetNS, "netns", "", "receive in this network namespace (ip netns name)")
	f.BoolVar(&cfg.Raw, "raw", false, "receive tsnctl's raw Ethernet frames on --iface (AF_PACKET), recording their VID and PCP")
	return cmd
}

func dumpCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "dump FILE [-o text|json]",
		Short: "Print a sample log: the header, then one line per record (text or JSON lines)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, f, err := samplelog.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			out := cmd.OutOrStdout()
			if output == "text" {
				params, _ := json.Marshal(r.Header.Params())
				safe := termsafe.String // the header's strings are the log's, not ours
				fmt.Fprintf(out, "# %s log, stream %d, started %s on %s (kernel %s)\n# params: %s\n", safe(string(r.Header.Role)), r.Header.Stream,
					r.Header.StartedAt.Format(time.RFC3339), safe(r.Header.Host), safe(r.Header.Kernel), safe(string(params)))
			}
			var rec samplelog.Record
			for {
				err := r.Next(&rec)
				if errors.Is(err, io.EOF) {
					return nil
				}
				if errors.Is(err, samplelog.ErrTruncated) {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %v; the records before it were printed\n", args[0], err)
					return nil
				}
				if err != nil {
					return err
				}
				if output == "json" {
					err = rec.WriteJSON(out)
				} else {
					err = rec.WriteText(out)
				}
				if err != nil {
					return err
				}
			}
		},
	}
	outputFlag(cmd.Flags(), &output, "output format (json: one object per line)", "text", "json")
	return cmd
}

// windowFlag is send's --window START,END: offsets in the cycle.
type windowFlag struct{ t *sender.Timing }

func (f windowFlag) String() string {
	return configs.Duration(f.t.WindowStart).String() + "," + configs.Duration(f.t.WindowEnd).String()
}
func (f windowFlag) Type() string { return "START,END" }
func (f windowFlag) Set(v string) error {
	start, end, ok := strings.Cut(v, ",")
	s, err1 := configs.ParseDuration(start)
	e, err2 := configs.ParseDuration(end)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("want START,END offsets in the cycle, e.g. 1200us,1300us")
	}
	f.t.WindowStart, f.t.WindowEnd = int64(s), int64(e)
	return nil
}

// baseTimeFlag is send's --base-time: auto (0: the TAI epoch) or TAI nanoseconds.
type baseTimeFlag struct{ p *int64 }

func (f baseTimeFlag) String() string {
	if *f.p == 0 {
		return "auto"
	}
	return strconv.FormatInt(*f.p, 10)
}
func (f baseTimeFlag) Type() string { return "auto|NS" }
func (f baseTimeFlag) Set(v string) error {
	if v == "auto" {
		*f.p = 0
		return nil
	}
	d, err := configs.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want auto or TAI nanoseconds")
	}
	*f.p = int64(d)
	return nil
}

// macFlag is a MAC address flag.
type macFlag struct{ p *net.HardwareAddr }

func (f macFlag) String() string { return f.p.String() }
func (f macFlag) Type() string   { return "MAC" }
func (f macFlag) Set(v string) error {
	mac, err := net.ParseMAC(v)
	if err != nil {
		return fmt.Errorf("want a MAC address such as 52:54:00:00:02:01")
	}
	*f.p = mac
	return nil
}
