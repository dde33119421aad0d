package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/tsnctl/tsnctl/socket"
	"github.com/tsnctl/tsnctl/wire"
	"golang.org/x/sys/unix"
)

// Config is one stream.
type Config struct {
	Timing Timing
	Stream uint32
	// ETFDelta is the software ETF's delta on the stream's TX queue, where known (for the log's
	// header: analyze attributes ETF drops by it).
	ETFDelta int64
	// Raw sends raw Ethernet frames (EtherType 0x88B5) on Iface through AF_PACKET, to DestMAC,
	// tagged 802.1Q with VLAN and PCP when VLAN is not 0. Otherwise UDP to Dest.
	Raw      bool
	DestMAC  net.HardwareAddr
	VLAN     uint16
	PCP      uint8
	Dest     string // UDP destination host:port
	Iface    string // bind the socket to this interface (e.g. the VLAN interface); optional
	Priority int    // SO_PRIORITY; -1 leaves the default
	Size     int    // UDP payload bytes, at least wire.Len
	Count    int64  // packets; 0: until Duration, or until stopped
	Duration time.Duration
	// DeadlineMode sets SOF_TXTIME_DEADLINE_MODE (the txtime is a deadline, ETF sends at once).
	DeadlineMode bool
	// TxTimestamps asks for TX timestamps (hardware where the NIC gives them, else software).
	TxTimestamps bool
	FIFO         int // SCHED_FIFO priority, 0: none
	CPU          int // pin the sending thread to this CPU, -1: none
	Log          *samplelog.Writer
	// Check, if set, is the installed schedule's window check for the stream's traffic class.
	Check *WindowCheck
	// Lead is how far ahead of now the first cycle's wake-up must be.
	Lead time.Duration
	// Sync, if set, tells whether time sync is locked at send time (see tsnctl ptp); it is asked
	// once per cycle. Packets sent while it says no are marked FlagNotLocked in the log.
	Sync func() bool
	// PauseUnlocked skips the cycles during which Sync says no, instead of sending and marking:
	// no packet, no sequence number used, counted in Summary.PausedCycles.
	PauseUnlocked bool
	// NetNS is the network namespace (ip netns name) to open the socket in; "" for the current one.
	NetNS string
	// WakeLatencies, if set, receives the wake-up latency (woke - planned, ns) of cycle n at index
	// n, for as many cycles as it has room for (tsnctl calibrate).
	WakeLatencies []int64
	// LateEvery > 0 gives every LateEvery-th packet a txtime whole cycles in the past (same place in
	// the window): a check that ETF drops are reported (tsnctl send --late-every).
	LateEvery int64
}

// Validate checks every parameter against its real range.
func (cfg Config) Validate() error {
	if err := cfg.Timing.Validate(); err != nil {
		return err
	}
	switch {
	case cfg.Size < wire.Len || cfg.Size > 9000:
		return param.Errorf("size", cfg.Size, "from %d (the tsnctl header) to 9000 bytes", wire.Len)
	case cfg.Priority < -1 || cfg.Priority > 15:
		return param.Errorf("priority", cfg.Priority, "a socket priority is 0 to 15 (taprio's map and the VLAN egress map know no more)")
	case cfg.Count < 0:
		return param.Errorf("count", cfg.Count, "give a number of packets, or 0 to send until {duration} or Ctrl-C")
	case cfg.Duration < 0:
		return param.Errorf("duration", cfg.Duration, "must not be negative (0: until {count} or Ctrl-C)")
	case cfg.LateEvery < 0:
		return param.Errorf("late-every", cfg.LateEvery, "must not be negative (0: off)")
	case cfg.FIFO < 0 || cfg.FIFO > 99:
		return param.Errorf("fifo", cfg.FIFO, "a SCHED_FIFO priority is 1 to 99 (0: no real-time policy)")
	case cfg.CPU < -1 || cfg.CPU >= runtime.NumCPU():
		return param.Errorf("cpu", cfg.CPU, "this machine has CPUs 0 to %d (-1: no pinning)", runtime.NumCPU()-1)
	case cfg.Raw && cfg.VLAN > 4094:
		return param.Errorf("vlan", cfg.VLAN, "a VLAN id is 1 to 4094 (0: untagged)")
	case cfg.Raw && cfg.PCP > 7:
		return param.Errorf("pcp", cfg.PCP, "a PCP is 0 to 7")
	}
	return nil
}

// Summary is what happened, counted by the loop.
type Summary struct {
	Sent, Errors                     uint64
	ETFMissed, ETFInvalid            uint64
	TxTimestamps, HardwareTimestamps uint64
	OutsideWindow, Late, NotLocked   uint64
	PausedCycles                     uint64 // cycles skipped while sync was not locked (PauseUnlocked)
	MissedCycles                     uint64 // cycles skipped because their wake-up had passed (Timing.Next)
	WakeMin, WakeMax, WakeSum, WakeN int64  // wake-up latency: woke - planned, ns
	FirstCycleStart, LastCycleStart  int64
	LastError                        string
}

// Stats are the live counters (read by a progress printer while the loop runs).
type Stats struct {
	Sent, Drops, Errors atomic.Uint64
	Missed              atomic.Uint64 // cycles skipped after an overrun
	WakeMax             atomic.Int64
}

// Sender is a prepared stream: the socket is open and configured, nothing sent yet.
type Sender struct {
	cfg       Config
	fd        int
	msg       *socket.Msg
	errMsg    *socket.Msg
	taiOffset int64 // TAI - UTC, for software timestamps (CLOCK_REALTIME)
	// recent maps the txtimes of the last packets to their sequence numbers, for ETF drop reports.
	recent [4096]struct {
		txtime int64
		seq    uint64
	}
	lastSeq    uint64
	seq        uint64   // the next packet's sequence number
	errQueue   bool     // the error queue can carry something: ETF reports or TX timestamps
	dmaLatency *os.File // /dev/cpu_dma_latency, held during a real-time run
	hdrOff     int      // where the tsnctl header starts in msg.Data (after the Ethernet header when raw)
	sendLen    int      // bytes sent per packet
	closer     func() error
	Stats      Stats
	sum        Summary
	rec        samplelog.Record
}

// Open validates cfg and opens the socket, so that bad arguments fail before any packet is sent.
func Open(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var s *Sender
	if cfg.Raw {
		err := nsexec.Do(cfg.NetNS, func() error {
			var err error
			s, err = openRaw(cfg)
			return err
		})
		return s, err
	}
	raddr, err := net.ResolveUDPAddr("udp4", cfg.Dest)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return nil, param.Errorf("dest", strconv.Quote(cfg.Dest), "cannot resolve the host: %w", err)
	}
	if err != nil || raddr.IP == nil || raddr.Port == 0 {
		return nil, param.Errorf("dest", strconv.Quote(cfg.Dest), "want an IPv4 host:port, e.g. 192.168.3.2:7788")
	}
	err = nsexec.Do(cfg.NetNS, func() error {
		var err error
		s, err = open(cfg, raddr)
		return err
	})
	return s, err
}

func open(cfg Config, raddr *net.UDPAddr) (*Sender, error) {
	fd, err := socket.UDP(cfg.Iface)
	if err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg, fd: fd, msg: socket.NewMsg(cfg.Size, socket.TxtimeOOBLen), errMsg: socket.NewMsg(256, 512)}
	fail := func(err error) (*Sender, error) { unix.Close(fd); return nil, err }
	if err := setOptions(fd, cfg); err != nil {
		return fail(err)
	}
	var sa unix.SockaddrInet4
	copy(sa.Addr[:], raddr.IP.To4())
	sa.Port = raddr.Port
	if err := unix.Connect(fd, &sa); err != nil {
		return fail(param.Errorf("dest", cfg.Dest, "%w", err))
	}
	if err := s.init(); err != nil {
		return fail(err)
	}
	return s, nil
}

// setOptions applies the stream's socket options: priority, SO_TXTIME, TX timestamping.
func setOptions(fd int, cfg Config) error {
	if cfg.Priority >= 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PRIORITY, cfg.Priority); err != nil {
			return param.Errorf("priority", cfg.Priority, "SO_PRIORITY: %w (priorities above 6 need CAP_NET_ADMIN)", err)
		}
	}
	if cfg.Timing.Txtime {
		flags := uint32(socket.TxtimeReportErrors)
		if cfg.DeadlineMode {
			flags |= socket.TxtimeDeadlineMode
		}
		if err := socket.SetTxtime(fd, int32(clock.TAI), flags); err != nil {
			return param.Errorf("txtime", nil, "%w", err)
		}
	}
	if cfg.TxTimestamps {
		if err := socket.SetTimestamping(fd, socket.TimestampTx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sender) init() error {
	off, err := clock.TAIOffset()
	if err != nil {
		return err
	}
	s.taiOffset = int64(off) * 1e9
	if s.cfg.Timing.Txtime {
		s.msg.SetTxtimeCmsg(0)
	}
	s.sum.WakeMin = 1<<63 - 1
	s.errQueue = s.cfg.Timing.Txtime || s.cfg.TxTimestamps
	if s.sendLen == 0 {
		s.sendLen = s.cfg.Size
	}
	return nil
}

// Close closes the socket.
func (s *Sender) Close() error {
	if s.closer != nil {
		return s.closer()
	}
	return unix.Close(s.fd)
}

// now reads CLOCK_TAI without a system call: CLOCK_REALTIME through the vDSO (time.Now) plus the
// kernel's TAI offset. golang.org/x/sys's ClockGettime(CLOCK_TAI) is a system call (about 2 µs on
// the project's machines, several µs of the lab's virtual time) and the loop reads the clock right
// after every wake-up, so the cost was measured as wake-up latency. The kernel keeps CLOCK_TAI at
// CLOCK_REALTIME + a whole number of seconds; the loop reads that offset again before every sleep
// (refreshTAIOffset), outside the measured path, because a leap second or phc2sys -O can change it.
func now() int64 {
	taiOnce.Do(refreshTAIOffset)
	return time.Now().UnixNano() + taiOffset.Load()
}

var (
	taiOnce   sync.Once
	taiOffset atomic.Int64
)

// refreshTAIOffset reads the kernel's TAI offset (two system calls).
func refreshTAIOffset() { taiOffset.Store(readTAIOffset()) }

// readTAIOffset returns CLOCK_TAI − CLOCK_REALTIME, rounded to the whole second it is.
func readTAIOffset() int64 {
	var tai, real unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_TAI, &tai)
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	d := tai.Nano() - real.Nano()
	return (d + int64(time.Second)/2) / int64(time.Second) * int64(time.Second)
}

// rawSleepMax is the longest raw sleep (see sleepUntil).
const rawSleepMax = 50 * time.Millisecond

// rawYieldEvery is how often a loop that sleeps raw yields to the Go scheduler: half the 10 ms
// after which the runtime preempts a goroutine it has not seen switch.
const rawYieldEvery = 5 * time.Millisecond

// sleepUntil sleeps until CLOCK_TAI reaches t. With raw, the system call bypasses Go's scheduler
// (RawSyscall6): golang.org/x/sys's ClockNanosleep enters and leaves the scheduler's syscall state
// around the sleep, and leaving it was the whole difference between the sender's wake-up and
// cyclictest's in the lab's virtual time (p50 5.35 µs against 3.53 µs, the same loop with
// RawSyscall6). The price: the loop's P stays taken while it sleeps, so the program's other
// goroutines run on the other Ps (the loop asks for raw only with GOMAXPROCS >= 2) and the loop
// yields once a cycle (see run), and a stop-the-world (the loop has turned the GC off) waits for
// the end of the sleep at most: so a long wait (the first cycle of a base-time in the future) sleeps
// the ordinary way until rawSleepMax before t. A signal that ends the sleep early (EINTR) is slept
// through to the same absolute time.
func sleepUntil(t int64, raw bool) {
	if raw {
		if early := t - int64(rawSleepMax); early > now() {
			sleepUntil(early, false)
		}
	}
	ts := unix.NsecToTimespec(t)
	if raw {
		for {
			_, _, e := unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_TAI, unix.TIMER_ABSTIME, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
			if e != unix.EINTR {
				return
			}
		}
	}
	for unix.ClockNanosleep(unix.CLOCK_TAI, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// tune gives the calling (locked) thread the loop's CPU, scheduling policy and timer slack. It
// returns what undoes that; on an error it has undone it already and returns a plain error.
func (s *Sender) tune() (restore func(), err error) {
	oldAttr, attrErr := unix.SchedGetAttr(0, 0)
	var oldSet unix.CPUSet
	setErr := unix.SchedGetaffinity(0, &oldSet)
	oldSlack, slackErr := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	undo := func() {
		if attrErr == nil {
			unix.SchedSetAttr(0, oldAttr, 0)
		}
		if setErr == nil {
			unix.SchedSetaffinity(0, &oldSet)
		}
		if slackErr == nil {
			unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(oldSlack), 0, 0, 0)
		}
	}
	fail := func(err error) (func(), error) { undo(); return nil, err }
	// A standard thread's timers may fire up to its timer slack late (50 µs by default), so that
	// the kernel can batch wake-ups; the loop's wake-up wants none (SCHED_FIFO threads have none
	// anyway). 1 ns is the least the kernel takes (0 means the default).
	if slackErr == nil {
		unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	}
	if s.cfg.CPU >= 0 {
		var set unix.CPUSet
		set.Set(s.cfg.CPU)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fail(param.Errorf("cpu", s.cfg.CPU, "%w (this process may run on CPUs %s)", err, cpuList(&oldSet)))
		}
		unpin := pinThreads(s.cfg.CPU)
		prev := undo
		undo = func() { unpin(); prev() }
	}
	if s.cfg.FIFO > 0 {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(s.cfg.FIFO)}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fail(param.Errorf("fifo", s.cfg.FIFO, "SCHED_FIFO needs CAP_SYS_NICE (run as root, add the capability: --cap-add SYS_NICE in a container; or {fifo} 0): %w", err))
			}
			return fail(param.Errorf("fifo", s.cfg.FIFO, "%w", err))
		}
	}
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil && s.cfg.FIFO > 0 {
		return fail(fmt.Errorf("mlockall: %w (needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK)", err))
	}
	if s.cfg.FIFO > 0 {
		// Keep the CPUs out of deep idle states while the run lasts (as cyclictest does): waking
		// from them costs tens to hundreds of microseconds. Released when the file is closed.
		if f, err := os.OpenFile("/dev/cpu_dma_latency", os.O_WRONLY, 0); err == nil {
			if _, err := f.Write([]byte{0, 0, 0, 0}); err == nil {
				s.dmaLatency = f
			} else {
				f.Close()
			}
		}
	}
	return undo, nil
}

// cpuList writes a CPU set as 0-3,6.
func cpuList(set *unix.CPUSet) string {
	var parts []string
	for i := 0; i < len(set)*64; i++ {
		if !set.IsSet(i) {
			continue
		}
		j := i
		for j+1 < len(set)*64 && set.IsSet(j+1) {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", i, j))
		} else {
			parts = append(parts, strconv.Itoa(i))
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// Run sends until Count packets, Duration, or ctx ends. The loop runs on an OS thread of its own
// with the real-time settings, and the garbage collector is off while it runs (the loop does not
// allocate).
//
// That thread is not handed back to the Go scheduler with SCHED_FIFO and the CPU affinity, where
// it would run any goroutine (GC workers, a progress printer) at real-time priority: the settings
// are undone at the end, and the goroutine ends locked, so the runtime retires the thread (or, if
// it is the process's main thread, parks it for good).
func (s *Sender) Run(ctx context.Context) (Summary, error) {
	sums, err := RunAll(ctx, s)
	return sums[0], err
}

// RunAll sends several prepared streams from one real-time loop, as Run sends one: their cycles
// merged into one timeline (Timeline, so their timings must share a base-time). The first
// stream's real-time settings (FIFO, CPU), Lead, Duration, Sync and PauseUnlocked apply to all;
// each stream sends its own Count. It returns each stream's summary, in the order given.
func RunAll(ctx context.Context, lanes ...*Sender) ([]Summary, error) {
	type result struct {
		sums []Summary
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // and no UnlockOSThread: see Run
		sums, err := run(ctx, lanes)
		done <- result{sums, err}
	}()
	r := <-done
	return r.sums, r.err
}

func summaries(lanes []*Sender) []Summary {
	sums := make([]Summary, len(lanes))
	for i, l := range lanes {
		sums[i] = l.sum
	}
	return sums
}

func run(ctx context.Context, lanes []*Sender) ([]Summary, error) {
	s0 := lanes[0]
	timings := make([]Timing, len(lanes))
	for i, l := range lanes {
		timings[i] = l.cfg.Timing
	}
	tl, err := NewTimeline(timings...)
	if err != nil {
		return summaries(lanes), err
	}
	restore, err := s0.tune()
	if err != nil {
		return summaries(lanes), err
	}
	defer restore()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))

	raw := runtime.GOMAXPROCS(0) >= 2 // see sleepUntil
	lead := int64(s0.cfg.Lead)
	if lead <= 0 {
		lead = int64(10 * time.Millisecond)
	}
	n := tl.First(now(), lead)
	var deadline int64
	if s0.cfg.Duration > 0 {
		deadline = tl.Wake(n) + int64(s0.cfg.Duration)
	}
	for m, seen := n, make([]bool, len(lanes)); slices.Contains(seen, false); m++ {
		if lane, k := tl.At(m); !seen[lane] {
			seen[lane] = true
			lanes[lane].sum.FirstCycleStart = lanes[lane].cfg.Timing.CycleStart(k)
		}
	}
	done := ctx.Done()
	yielded := now() // the loop's last runtime.Gosched
	missedFrom := n  // events from missedFrom to n were passed over by an overrun
	for {
		if !slices.ContainsFunc(lanes, (*Sender).more) {
			break
		}
		select {
		case <-done:
			return finishAll(lanes)
		default:
		}
		wake := tl.Wake(n)
		if deadline > 0 && wake >= deadline {
			break
		}
		lane, k := tl.At(n)
		s, t := lanes[lane], lanes[lane].cfg.Timing
		if !s.more() { // this stream has sent its Count; the others go on
			n, _ = tl.Next(n, now())
			continue
		}
		// Counted once the loop reaches the event after them, so that a stall in the last cycle
		// of a run counts nothing: no cycle was due.
		for m := missedFrom; m < n; m++ {
			if l, _ := tl.At(m); lanes[l].more() {
				lanes[l].skip(1)
			}
		}
		if raw && wake-yielded >= int64(rawYieldEvery) {
			// Through the scheduler now and then, outside the measured path: a goroutine that the
			// scheduler never sees switch for 10 ms is preempted by the runtime's monitor, and
			// that preemption then lands after a wake-up (make bench-wakeup-lab, 2 ms: p99 29.7 µs
			// instead of 4.6 µs). Not every event: each yield is a round trip through another
			// thread (see pinThreads), and the rare slow one (1-3 ms when that thread waits
			// behind another task) is a late wake-up.
			runtime.Gosched()
			yielded = now()
		}
		refreshTAIOffset()
		sleepUntil(wake, raw)
		woke := now()
		s.wake(woke - wake)
		cs := t.CycleStart(k)
		locked := s0.cfg.Sync == nil || s0.cfg.Sync()
		if !locked && s0.cfg.PauseUnlocked {
			s.sum.PausedCycles++
			next, _ := tl.Next(n, now())
			n, missedFrom = next, n+1
			continue
		}
		for i := 0; i < t.PerCycle && s.more(); i++ {
			var txtime int64
			if t.Txtime {
				txtime = t.TxtimeOf(k, i)
				if s.cfg.LateEvery > 0 && int64(s.seq)%s.cfg.LateEvery == s.cfg.LateEvery-1 {
					// Whole cycles back, past the wake-up: the same place in the window (taprio
					// accepts it), but in the past, which ETF refuses and reports.
					txtime -= (t.WakeAdvance/t.Cycle + 2) * t.Cycle
				}
			}
			s.send(s.seq, cs, woke, wake, txtime, locked)
			s.seq++
		}
		s.sum.LastCycleStart = cs
		if s.errQueue {
			s.drainErrors()
		}
		next, _ := tl.Next(n, now())
		n, missedFrom = next, n+1
	}
	// Late reports (ETF drops come at the txtime, TX timestamps when the NIC sent).
	end := now() + int64(20*time.Millisecond)
	var wait int64
	for _, l := range lanes {
		if t := l.cfg.Timing; t.Txtime {
			wait = max(wait, t.WakeAdvance+t.Cycle)
		}
	}
	end += wait
	for now() < end {
		for _, l := range lanes {
			l.drainErrors()
		}
		sleepUntil(now()+int64(time.Millisecond), false)
	}
	return finishAll(lanes)
}

// more reports whether the stream has packets left to send (Count not reached).
func (s *Sender) more() bool { return s.cfg.Count == 0 || int64(s.seq) < s.cfg.Count }

func finishAll(lanes []*Sender) ([]Summary, error) {
	var first error
	for _, l := range lanes {
		if _, err := l.finish(); err != nil && first == nil {
			first = err
		}
	}
	return summaries(lanes), first
}

func (s *Sender) finish() (Summary, error) {
	s.drainErrors()
	if s.dmaLatency != nil {
		s.dmaLatency.Close()
		s.dmaLatency = nil
	}
	if s.cfg.Log != nil {
		if err := s.cfg.Log.Flush(); err != nil {
			return s.sum, err
		}
	}
	return s.sum, nil
}

// skip counts n cycles an overrun passed over. The loop calls it only when it goes on to the
// cycle after them, so a stall in the last cycle of a run counts nothing: no cycle was due.
func (s *Sender) skip(n int64) {
	if n <= 0 {
		return
	}
	s.sum.MissedCycles += uint64(n)
	s.Stats.Missed.Store(s.sum.MissedCycles)
}

func (s *Sender) wake(lat int64) {
	if n := s.sum.WakeN; n < int64(len(s.cfg.WakeLatencies)) {
		s.cfg.WakeLatencies[n] = lat
	}
	s.sum.WakeN++
	s.sum.WakeSum += lat
	if lat < s.sum.WakeMin {
		s.sum.WakeMin = lat
	}
	if lat > s.sum.WakeMax {
		s.sum.WakeMax = lat
		s.Stats.WakeMax.Store(lat)
	}
}

func (s *Sender) send(seq uint64, cycleStart, woke, plannedWake, txtime int64, locked bool) {
	var flags uint8
	h := wire.Header{Stream: s.cfg.Stream, Seq: seq, CycleStart: cycleStart, Wakeup: woke, Txtime: txtime}
	oobn := 0
	if txtime != 0 {
		r := &s.recent[seq%uint64(len(s.recent))]
		r.txtime, r.seq = txtime, seq
		s.lastSeq = seq
		h.Flags = wire.FlagTxtime
		flags |= samplelog.FlagTxtime
		s.msg.SetTxtimeCmsg(txtime)
		oobn = socket.TxtimeOOBLen
		if s.cfg.Check != nil && !s.cfg.Check.Contains(txtime) {
			flags |= samplelog.FlagOutsideWindow
			s.sum.OutsideWindow++
		}
	}
	if !locked {
		flags |= samplelog.FlagNotLocked
		s.sum.NotLocked++
	}
	h.SendCall = now()
	if txtime != 0 && h.SendCall > txtime {
		s.sum.Late++
	}
	wire.Put(s.msg.Data[s.hdrOff:], &h)
	if err := s.msg.Send(s.fd, s.sendLen, oobn, 0); err != nil {
		s.sum.Errors++
		s.Stats.Errors.Add(1)
		if s.sum.LastError == "" {
			s.sum.LastError = err.Error()
		}
	} else {
		s.sum.Sent++
		s.Stats.Sent.Add(1)
	}
	if s.cfg.Log != nil {
		s.rec = samplelog.Record{Type: samplelog.TypeTx, Flags: flags, Stream: s.cfg.Stream, Seq: seq,
			CycleStart: cycleStart, Wakeup: woke, SendCall: h.SendCall, Txtime: txtime, PlannedWakeup: plannedWake}
		_ = s.cfg.Log.Write(&s.rec)
	}
}

// drainErrors reads the socket's error queue: ETF drops and TX timestamps.
func (s *Sender) drainErrors() {
	var c socket.Control
	for {
		_, oobn, err := s.errMsg.Recv(s.fd, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		if err != nil {
			return
		}
		socket.ParseControl(s.errMsg.OOB[:oobn], &c)
		if !c.HaveErr {
			continue
		}
		switch c.Err.Origin {
		case socket.OriginTxtime:
			txtime := c.Err.Txtime()
			seq := s.seqOfTxtime(txtime)
			flag := uint8(samplelog.FlagDropMissed)
			if c.Err.Code == socket.CodeTxtimeInvalidParam {
				flag = samplelog.FlagDropInvalid
				s.sum.ETFInvalid++
			} else {
				s.sum.ETFMissed++
			}
			s.Stats.Drops.Add(1)
			s.log(samplelog.Record{Type: samplelog.TypeETFDrop, Flags: flag, Stream: s.cfg.Stream, Seq: seq, Txtime: txtime})
		case socket.OriginTimestamping:
			ts, fl := c.Software+s.taiOffset, uint8(0)
			if c.HaveHardware {
				ts, fl = c.Hardware, samplelog.FlagHardware
				s.sum.HardwareTimestamps++
			}
			s.sum.TxTimestamps++
			// With SOF_TIMESTAMPING_OPT_ID, ee_data counts the packets sent: the sequence number.
			s.log(samplelog.Record{Type: samplelog.TypeTxTimestamp, Flags: fl, Stream: s.cfg.Stream, Seq: uint64(c.Err.Data), Timestamp: ts})
		}
	}
}

// seqOfTxtime finds the sequence number of a recent packet by its txtime, newest first (a packet
// sent with a txtime in the past shares it with an older one); ^0 if none matches.
func (s *Sender) seqOfTxtime(txtime int64) uint64 {
	n := uint64(len(s.recent))
	for j := uint64(0); j < n && j <= s.lastSeq; j++ {
		if r := s.recent[(s.lastSeq-j)%n]; r.txtime == txtime && r.seq == s.lastSeq-j {
			return r.seq
		}
	}
	return ^uint64(0)
}

func (s *Sender) log(r samplelog.Record) {
	if s.cfg.Log != nil {
		s.rec = r
		_ = s.cfg.Log.Write(&s.rec)
	}
}

// LogParams are the sample log header's record of cfg; fromQdisc names the interface whose taprio
// gave the timing (send --from-qdisc), if one did.
func (c *Config) LogParams(fromQdisc string) *samplelog.SendParams {
	t := c.Timing
	p := &samplelog.SendParams{Mode: "plain", Cycle: t.Cycle, BaseTime: t.BaseTime, PerCycle: t.PerCycle, Dest: c.Dest, Iface: c.Iface,
		Priority: c.Priority, Size: c.Size, FromQdisc: fromQdisc, DeadlineMode: c.DeadlineMode, FIFO: c.FIFO, CPU: c.CPU,
		RequireSync: c.Sync != nil, PauseUnlocked: c.PauseUnlocked, ETFDelta: c.ETFDelta}
	if t.Txtime {
		// Plain sends (the seed's case 1) go at the cycle start: they have no window to judge
		// them by, and analyze must not count them premature against --window's default.
		p.Mode, p.WindowStart, p.WindowEnd, p.Offset, p.WakeAdvance = "txtime", t.WindowStart, t.WindowEnd, t.Offset, t.WakeAdvance
	}
	return p
}

// SetLog sets the sample log (after Open, before Run).
func (s *Sender) SetLog(w *samplelog.Writer) { s.cfg.Log = w }

// Write prints the summary.
func (sum Summary) Write(w io.Writer, cfg Config) {
	mode := "plain"
	if cfg.Timing.Txtime {
		mode = "txtime"
	}
	dest := cfg.Dest
	if cfg.Raw {
		dest = fmt.Sprintf("%s on %s, VLAN %d PCP %d", cfg.DestMAC, cfg.Iface, cfg.VLAN, cfg.PCP)
	}
	fmt.Fprintf(w, "\nstream %d (%s, cycle %v, priority %d -> %s): sent %d, send errors %d\n", cfg.Stream, mode,
		time.Duration(cfg.Timing.Cycle), cfg.Priority, dest, sum.Sent, sum.Errors)
	if sum.LastError != "" {
		fmt.Fprintf(w, "  first send error: %s\n", sum.LastError)
	}
	if cfg.Timing.Txtime {
		fmt.Fprintf(w, "  ETF drops: %d missed deadline, %d invalid parameter; sent after their txtime: %d\n", sum.ETFMissed, sum.ETFInvalid, sum.Late)
	}
	if cfg.Check != nil {
		fmt.Fprintf(w, "  txtimes outside the installed schedule's window: %d\n", sum.OutsideWindow)
	}
	if cfg.TxTimestamps {
		fmt.Fprintf(w, "  TX timestamps: %d (%d hardware)\n", sum.TxTimestamps, sum.HardwareTimestamps)
	}
	if cfg.Sync != nil {
		fmt.Fprintf(w, "  sent while time sync was not locked: %d; cycles paused for it: %d\n", sum.NotLocked, sum.PausedCycles)
	}
	fmt.Fprintf(w, "  cycles missed (overrun: their wake-up had passed; skipped): %d\n", sum.MissedCycles)
	if sum.WakeN > 0 {
		fmt.Fprintf(w, "  wake-up latency: min %.1f us, mean %.1f us, max %.1f us\n", float64(sum.WakeMin)/1e3,
			float64(sum.WakeSum)/float64(sum.WakeN)/1e3, float64(sum.WakeMax)/1e3)
	}
}
