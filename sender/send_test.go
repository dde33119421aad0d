package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/receiver"
	"github.com/tsnctl/tsnctl/samplelog"
	"golang.org/x/sys/unix"
)

// runToEnd opens a sender with cfg, runs it to the end and closes it.
func runToEnd(t *testing.T, cfg Config) Summary {
	t.Helper()
	snd, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	sum, err := snd.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func loopTiming(txtime bool) Timing {
	return Timing{Cycle: 2000 * us, WindowStart: 1200 * us, WindowEnd: 1300 * us, Offset: 50 * us,
		PerCycle: 1, Txtime: txtime, WakeAdvance: 500 * us}
}

// Plain and txtime mode over loopback (the host kernel accepts SO_TXTIME without ETF and sends at
// once): every packet arrives, in order, with the header the sender wrote.
func TestLoopbackSendReceive(t *testing.T) {
	for _, txtime := range []bool{false, true} {
		var rxlog, txlog bytes.Buffer
		rw, _ := samplelog.NewWriter(&rxlog, samplelog.Header{Role: samplelog.RoleRecv})
		tw, _ := samplelog.NewWriter(&txlog, samplelog.Header{Role: samplelog.RoleSend})
		rcv, err := receiver.Open(receiver.Config{Listen: "127.0.0.1:17788", Count: 50, Duration: 5 * time.Second, Log: rw})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan receiver.Summary)
		go func() { s, _ := rcv.Run(context.Background()); done <- s }()
		snd, err := Open(Config{Timing: loopTiming(txtime), Stream: 9, Dest: "127.0.0.1:17788", Priority: 6, Size: 100,
			Count: 50, CPU: -1, Log: tw, TxTimestamps: true})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := snd.Run(context.Background())
		snd.Close()
		if err != nil || sum.Sent != 50 || sum.Errors != 0 {
			t.Fatalf("txtime=%v: %+v %v", txtime, sum, err)
		}
		rs := <-done
		rcv.Close()
		if rs.Received != 50 || rs.Lost != 0 || rs.Duplicates != 0 || rs.Reordered != 0 || rs.TimestampSource != "software" {
			t.Errorf("txtime=%v: receiver %+v", txtime, rs)
		}
		if sum.TxTimestamps != 50 {
			t.Errorf("txtime=%v: %d TX timestamps, want 50", txtime, sum.TxTimestamps)
		}
		// The logs: 50 tx records whose cycle starts are 2 ms apart and whose txtimes are 1250 us in.
		r, err := samplelog.NewReader(&txlog)
		if err != nil {
			t.Fatal(err)
		}
		var rec samplelog.Record
		var tx, ts int
		var prev int64
		var skipped uint64
		for r.Next(&rec) == nil {
			switch rec.Type {
			case samplelog.TypeTx:
				if d := rec.CycleStart - prev; tx > 0 && (d <= 0 || d%(2000*us) != 0) {
					t.Errorf("cycle starts %d apart", d)
				} else if tx > 0 {
					skipped += uint64(d/(2000*us) - 1) // an overrun on a busy machine skips cycles
				}
				if txtime && rec.Txtime-rec.CycleStart != 1250*us {
					t.Errorf("txtime %d after the cycle start", rec.Txtime-rec.CycleStart)
				}
				if rec.Seq != uint64(tx) || rec.Wakeup < rec.PlannedWakeup || rec.SendCall < rec.Wakeup {
					t.Errorf("record %+v", rec)
				}
				prev = rec.CycleStart
				tx++
			case samplelog.TypeTxTimestamp:
				ts++
			}
		}
		if tx != 50 || ts != 50 || skipped != sum.MissedCycles {
			t.Errorf("log: %d tx, %d timestamps, %d cycles skipped (summary: %d missed)", tx, ts, skipped, sum.MissedCycles)
		}
		rr, _ := samplelog.NewReader(&rxlog)
		n := 0
		for rr.Next(&rec) == nil {
			if rec.Type != samplelog.TypeRx || rec.Stream != 9 || rec.Timestamp < rec.SendCall {
				t.Errorf("rx record %+v (received before sent?)", rec)
			}
			n++
		}
		if n != 50 {
			t.Errorf("%d rx records", n)
		}
	}
}

// The steady-state loop body (send one packet with its txtime, log it, read the error queue)
// allocates nothing.
func TestSendLoopDoesNotAllocate(t *testing.T) {
	rcv, err := receiver.Open(receiver.Config{Listen: "127.0.0.1:17789"})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	w, _ := samplelog.NewWriter(io.Discard, samplelog.Header{})
	tm := loopTiming(true)
	snd, err := Open(Config{Timing: tm, Dest: "127.0.0.1:17789", Priority: 1, Size: 64, CPU: -1, Log: w, TxTimestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	k := int64(1000)
	allocs := testing.AllocsPerRun(1000, func() {
		n := now()
		snd.wake(now() - n)
		snd.send(uint64(k), tm.CycleStart(k), n, n, tm.TxtimeOf(k, 0), k%2 == 0)
		snd.drainErrors()
		k++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per cycle", allocs)
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Timing: loopTiming(true), Dest: "nowhere", CPU: -1, Size: 64}, `dest "nowhere"`},
		{Config{Timing: loopTiming(true), Dest: "127.0.0.1:1", Iface: "nosuch0", CPU: -1, Size: 64}, "iface nosuch0: no such interface"},
		{Config{Timing: Timing{Cycle: 1000, WindowStart: 0, WindowEnd: 2000, PerCycle: 1}, Dest: "127.0.0.1:1", CPU: -1}, "window"},
		{Config{Timing: loopTiming(true), Dest: "127.0.0.1:1", Size: 100000, CPU: -1}, "size"},
		// The hostile-input probe's flag values: each refused with the flag and its range.
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: 999}, "cpu 999: this machine has CPUs 0 to"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -2}, "cpu -2"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, FIFO: 100}, "fifo 100: a SCHED_FIFO priority is 1 to 99"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, FIFO: -1}, "fifo -1"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, Count: -1}, "count -1"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, Duration: -time.Second}, "duration -1s"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, LateEvery: -3}, "late-every -3"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, Priority: 99}, "priority 99: a socket priority is 0 to 15"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 64, CPU: -1, Priority: 1 << 31}, "priority 2147483648"},
		{Config{Timing: loopTiming(false), Dest: "127.0.0.1:1", Size: 0, CPU: -1}, "size 0: from 52"},
		{Config{Timing: Timing{Cycle: 2 * ms, WindowStart: 1200 * us, WindowEnd: 1300 * us, PerCycle: 2, Spacing: -5 * us}, Dest: "127.0.0.1:1", Size: 64, CPU: -1}, "spacing -5µs: must not be negative"},
		{Config{Timing: Timing{Cycle: 2 * ms, WindowStart: 1200 * us, WindowEnd: 1300 * us, PerCycle: 3, Spacing: 1<<63 - 1}, Dest: "127.0.0.1:1", Size: 64, CPU: -1}, "the txtimes must fall inside the window"},
		{Config{Timing: Timing{Cycle: 2 * ms, WindowStart: 1200 * us, WindowEnd: 1300 * us, PerCycle: 1, Offset: 1<<63 - 1}, Dest: "127.0.0.1:1", Size: 64, CPU: -1}, "the txtimes must fall inside the window"},
		{Config{Timing: Timing{Cycle: 1<<63 - 1, WindowEnd: 1, PerCycle: 1}, Dest: "127.0.0.1:1", Size: 64, CPU: -1}, "cycle"},
		{Config{Timing: Timing{Cycle: 2 * ms, WindowEnd: 2 * ms, PerCycle: 1 << 30}, Dest: "127.0.0.1:1", Size: 64, CPU: -1}, "per-cycle"},
		{Config{Timing: loopTiming(false), Raw: true, Size: 64, CPU: -1, VLAN: 4095}, "vlan 4095"},
		{Config{Timing: loopTiming(false), Raw: true, Size: 64, CPU: -1, PCP: 8}, "pcp 8"},
	} {
		if _, err := Open(tc.cfg); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

// Time sync lost mid-run: in mark mode every packet is sent and those of unlocked cycles carry
// FlagNotLocked; in pause mode those cycles send nothing and use no sequence number.
func TestSyncLossMarksOrPauses(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:17789") // takes the packets (else: connection refused)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for _, pause := range []bool{false, true} {
		var txlog bytes.Buffer
		tw, _ := samplelog.NewWriter(&txlog, samplelog.Header{Role: samplelog.RoleSend})
		cycle := 0
		sync := func() bool { cycle++; return cycle <= 5 || cycle > 10 } // cycles 6..10 unlocked
		sum := runToEnd(t, Config{Timing: loopTiming(false), Dest: "127.0.0.1:17789", Size: 64, Count: 20, CPU: -1, Log: tw,
			Sync: sync, PauseUnlocked: pause})
		r, _ := samplelog.NewReader(&txlog)
		var rec samplelog.Record
		var marked []uint64
		var n int
		for r.Next(&rec) == nil {
			if rec.Type != samplelog.TypeTx {
				continue
			}
			if rec.Seq != uint64(n) {
				t.Errorf("pause=%v: record %d has sequence %d", pause, n, rec.Seq)
			}
			if rec.Flags&samplelog.FlagNotLocked != 0 {
				marked = append(marked, rec.Seq)
			}
			n++
		}
		switch {
		case !pause && (sum.Sent != 20 || sum.NotLocked != 5 || sum.PausedCycles != 0 || len(marked) != 5 || marked[0] != 5 || marked[4] != 9):
			t.Errorf("mark: %+v, marked %v", sum, marked)
		case pause && (sum.Sent != 20 || sum.NotLocked != 0 || sum.PausedCycles != 5 || len(marked) != 0 || n != 20):
			t.Errorf("pause: %+v, marked %v, %d records", sum, marked, n)
		}
	}
}

// A stall of 3.5 cycles (the per-cycle sync hook sleeps once, after cycle 4's wake-up): the loop
// skips the cycles whose wake-up passed meanwhile (3, or more if this machine adds a stall of its
// own), counts them as the log's cycle starts show them, and wakes on time for the next cycle;
// catching up instead, it would wake 25 ms late for it. Sequence numbers stay consecutive.
func TestOverrunSkipsMissedCycles(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:17791")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var txlog bytes.Buffer
	tw, _ := samplelog.NewWriter(&txlog, samplelog.Header{Role: samplelog.RoleSend})
	tm := Timing{Cycle: 10 * ms, WindowStart: 0, WindowEnd: 10 * ms, PerCycle: 1}
	calls := 0
	stall := func() bool {
		if calls++; calls == 5 {
			time.Sleep(35 * time.Millisecond)
		}
		return true
	}
	lat := make([]int64, 20)
	sum := runToEnd(t, Config{Timing: tm, Dest: "127.0.0.1:17791", Size: 64, Count: 10, CPU: -1, Log: tw, Sync: stall, WakeLatencies: lat})
	if sum.Sent != 10 || sum.WakeN != 10 || sum.MissedCycles < 3 {
		t.Fatalf("sent %d, wake-ups %d, missed %d; want 10, 10, at least 3", sum.Sent, sum.WakeN, sum.MissedCycles)
	}
	if lat[5] > 15*ms {
		t.Errorf("woke %.1f ms late for the cycle after the stall (caught up instead of skipping?): %v", float64(lat[5])/1e6, lat[:sum.WakeN])
	}
	r, _ := samplelog.NewReader(&txlog)
	var rec samplelog.Record
	var cycles []int64
	for r.Next(&rec) == nil {
		if rec.Type == samplelog.TypeTx {
			if rec.Seq != uint64(len(cycles)) {
				t.Errorf("record %d has sequence %d", len(cycles), rec.Seq)
			}
			cycles = append(cycles, rec.CycleStart)
		}
	}
	if len(cycles) != 10 {
		t.Fatalf("%d tx records", len(cycles))
	}
	var skipped int64
	for i := 1; i < len(cycles); i++ {
		d := cycles[i] - cycles[i-1]
		if d <= 0 || d%tm.Cycle != 0 {
			t.Fatalf("cycle start %d is %d ns after the one before", i, d)
		}
		if i == 5 && d < 4*tm.Cycle {
			t.Errorf("the cycle after the stall starts %d ms after the one before, want at least 40 ms (3 skipped)", d/ms)
		}
		skipped += d/tm.Cycle - 1
	}
	if uint64(skipped) != sum.MissedCycles {
		t.Errorf("the log skips %d cycles, the summary counts %d", skipped, sum.MissedCycles)
	}
}

// A stall in the last cycle is not an overrun: no cycle after it is skipped, because none is
// due. The summary counts only cycles skipped between sent ones, as the log's gaps show them
// (the loop used to move on to the next cycle first, and count the stall's 3 cycles as missed).
// The machine may stall on its own elsewhere: the summary must then still equal the log's gaps.
func TestStallInLastCycleSkipsNothing(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:17792")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tm := Timing{Cycle: 10 * ms, WindowStart: 0, WindowEnd: 10 * ms, PerCycle: 1}
	for _, c := range []struct {
		name  string
		count int64
		dur   time.Duration
	}{{"count", 5, 0}, {"duration", 0, 50 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			var txlog bytes.Buffer
			tw, _ := samplelog.NewWriter(&txlog, samplelog.Header{Role: samplelog.RoleSend})
			calls := 0
			var last bool
			stall := func() bool {
				calls++
				// The fifth cycle: the last by count, and by duration when the machine does not stall
				// on its own earlier.
				if c.count > 0 && calls == int(c.count) || c.count == 0 && calls == 5 {
					last = true
					time.Sleep(35 * time.Millisecond)
				}
				return true
			}
			sum := runToEnd(t, Config{Timing: tm, Dest: "127.0.0.1:17792", Size: 64, Count: c.count, Duration: c.dur,
				CPU: -1, Sync: stall, Log: tw})
			r, _ := samplelog.NewReader(&txlog)
			var rec samplelog.Record
			var prev int64
			var gaps, n uint64
			for r.Next(&rec) == nil {
				if rec.Type == samplelog.TypeTx {
					if n > 0 {
						gaps += uint64((rec.CycleStart-prev)/tm.Cycle - 1)
					}
					prev = rec.CycleStart
					n++
				}
			}
			if sum.MissedCycles != gaps || n != sum.Sent {
				t.Errorf("summary: %d missed, %d sent; the log: %d gaps, %d packets", sum.MissedCycles, sum.Sent, gaps, n)
			}
			if c.count > 0 && (sum.Sent != 5 || !last) {
				t.Errorf("sent %d, want 5 with the last one stalled", sum.Sent)
			}
		})
	}
}

// Without CAP_NET_ADMIN, SO_TXTIME on CLOCK_TAI is refused: Open says so and what to do, before
// any packet. Capabilities are per thread: this thread drops CAP_NET_ADMIN from its effective set
// and raises it again before it is released.
func TestTxtimeWithoutNetAdmin(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	if data[0].Effective&(1<<unix.CAP_NET_ADMIN) == 0 {
		t.Fatal("the test needs CAP_NET_ADMIN to drop it (make test runs as root)")
	}
	saved := data
	data[0].Effective &^= 1 << unix.CAP_NET_ADMIN
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			panic("cannot restore CAP_NET_ADMIN on a test thread: " + err.Error())
		}
	}()
	snd, err := Open(Config{Timing: loopTiming(true), Dest: "127.0.0.1:17790", Size: 64, Count: 1, CPU: -1})
	if err == nil {
		snd.Close()
		t.Fatal("Open with --txtime succeeded without CAP_NET_ADMIN")
	}
	if !strings.Contains(err.Error(), "needs CAP_NET_ADMIN: run as root or add the capability") {
		t.Errorf("err %v", err)
	}
}

// After a SCHED_FIFO run no thread of the process is left real-time: the loop's thread is retired,
// not handed back to the Go scheduler to run other goroutines at its priority.
func TestRunLeavesNoRealtimeThread(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:17792")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	fifo := func() []string {
		var ids []string
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, e := range tasks {
			tid, _ := strconv.Atoi(e.Name())
			if a, err := unix.SchedGetAttr(tid, 0); err == nil && a.Policy == unix.SCHED_FIFO {
				ids = append(ids, e.Name())
			}
		}
		return ids
	}
	for i := 0; i < 3; i++ {
		var during []string
		calls := 0
		runToEnd(t, Config{Timing: Timing{Cycle: 2 * ms, WindowEnd: 2 * ms, PerCycle: 1}, Dest: "127.0.0.1:17792", Count: 5, FIFO: 10, CPU: 0, Size: 64,
			Sync: func() bool {
				if calls++; calls == 1 {
					during = fifo()
				}
				return true
			}})
		if len(during) != 1 {
			t.Fatalf("during the run: SCHED_FIFO threads %v, want the loop's", during)
		}
		deadline := time.Now().Add(2 * time.Second) // the retired thread exits just after Run returns
		for len(fifo()) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if left := fifo(); len(left) > 0 {
			t.Fatalf("after run %d: threads %v still SCHED_FIFO (during: %v)", i, left, during)
		}
	}
}

// The loop's thread has a timer slack of 1 ns while it runs (a standard thread's timers may fire
// 50 µs late by default), and gets its own back afterwards.
func TestLoopHasNoTimerSlack(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:17793")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	slack := func() int {
		n, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	during, calls := -1, 0
	runToEnd(t, Config{Timing: Timing{Cycle: 2 * ms, WindowEnd: 2 * ms, PerCycle: 1}, Dest: "127.0.0.1:17793", Count: 3, CPU: -1, Size: 64,
		Sync: func() bool { // runs on the loop's thread
			if calls++; calls == 1 {
				during = slack()
			}
			return true
		}})
	if during != 1 {
		t.Errorf("timer slack during the loop: %d ns, want 1", during)
	}
	runtime.LockOSThread() // tune on this thread: restore must give back what it had
	defer runtime.UnlockOSThread()
	before := slack()
	restore, err := (&Sender{cfg: Config{CPU: -1}}).tune()
	if err != nil {
		t.Fatal(err)
	}
	if got := slack(); got != 1 {
		t.Errorf("after tune: %d ns", got)
	}
	restore()
	if got := slack(); got != before {
		t.Errorf("after restore: %d ns, want %d", got, before)
	}
}

// Without CAP_SYS_NICE, --fifo is a plain error that names the capability (it used to panic in
// tune's deferred restore). The child is this test binary with CAP_SYS_NICE dropped from its
// bounding set.
func TestFIFOWithoutSysNice(t *testing.T) {
	if os.Getenv("TSNCTL_NO_SYS_NICE_CHILD") == "1" {
		snd, err := Open(Config{Timing: Timing{Cycle: 2 * ms, WindowEnd: 2 * ms, PerCycle: 1}, Dest: "127.0.0.1:17793", Count: 3, FIFO: 80, CPU: 0, Size: 64})
		if err == nil {
			_, err = snd.Run(context.Background())
			snd.Close()
		}
		fmt.Printf("result: %v\n", err)
		return
	}
	if os.Getenv("TSNCTL_LAB") == "1" {
		t.Skip("runs on the host (make unit): the lab guest's setpriv is busybox's, without --bounding-set")
	}
	cmd := exec.Command("setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", os.Args[0], "-test.run=^TestFIFOWithoutSysNice$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TSNCTL_NO_SYS_NICE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "result: fifo 80: SCHED_FIFO needs CAP_SYS_NICE") {
		t.Fatalf("%v:\n%s", err, out)
	}
}

// A host name that does not resolve is called that, not "want an IPv4 host:port". The test's
// resolver fails without sending a query.
func TestUnresolvableDest(t *testing.T) {
	old := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no resolver in this test")
	}}
	defer func() { net.DefaultResolver = old }()
	_, err := Open(Config{Timing: loopTiming(false), Dest: "nosuchhost.invalid:7788", Size: 64, CPU: -1})
	if err == nil || !strings.Contains(err.Error(), `dest "nosuchhost.invalid:7788": cannot resolve the host`) {
		t.Errorf("%v", err)
	}
}

// A raw sleep longer than rawSleepMax sleeps the ordinary way first and still wakes at its time:
// not before, and not a whole raw period late.
func TestSleepUntilLongRawWait(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 3 * rawSleepMax} {
		at := now() + int64(d)
		sleepUntil(at, true)
		woke := now()
		if woke < at || woke-at > int64(30*time.Millisecond) {
			t.Errorf("sleep of %v: woke %v after its time", d, time.Duration(woke-at))
		}
	}
}

// Two streams of different periods from one loop (RunAll, send --stream a,b): each sends its own
// count, with its own stream id, sequence numbers and txtimes in its own period, into one log.
func TestRunAllTwoStreams(t *testing.T) {
	var rxlog, txlog bytes.Buffer
	rw, _ := samplelog.NewWriter(&rxlog, samplelog.Header{Role: samplelog.RoleRecv})
	tw, _ := samplelog.NewWriter(&txlog, samplelog.Header{Role: samplelog.RoleSend})
	rcv, err := receiver.Open(receiver.Config{Listen: "127.0.0.1:17791", Count: 30, Duration: 5 * time.Second, Log: rw})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan receiver.Summary)
	go func() { s, _ := rcv.Run(context.Background()); done <- s }()
	fast := Timing{Cycle: 1000 * us, WindowStart: 200 * us, WindowEnd: 300 * us, Offset: 50 * us, PerCycle: 1, Txtime: true, WakeAdvance: 250 * us}
	slow := loopTiming(true) // 2 ms, txtime 1250 us in
	a, err := Open(Config{Timing: fast, Stream: 1, Dest: "127.0.0.1:17791", Size: 64, Count: 20, CPU: -1, Log: tw, Priority: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(Config{Timing: slow, Stream: 2, Dest: "127.0.0.1:17791", Size: 64, Count: 10, CPU: -1, Log: tw, Priority: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sums, err := RunAll(context.Background(), a, b)
	if err != nil || len(sums) != 2 || sums[0].Sent != 20 || sums[1].Sent != 10 {
		t.Fatalf("%+v %v", sums, err)
	}
	rs := <-done
	rcv.Close()
	// The receiver counts each stream's sequence numbers apart: no duplicate, no restart.
	if rs.Packets != 30 || rs.Received != 30 || rs.Streams != 2 || rs.Duplicates != 0 || rs.Restarts != 0 || rs.Lost != 0 {
		t.Errorf("receiver: %+v", rs)
	}
	rr, _ := samplelog.NewReader(&rxlog)
	var rxRec samplelog.Record
	rx := map[uint32]int{}
	for rr.Next(&rxRec) == nil {
		rx[rxRec.Stream]++
	}
	if rx[1] != 20 || rx[2] != 10 {
		t.Errorf("received per stream: %v", rx)
	}
	r, err := samplelog.NewReader(&txlog)
	if err != nil {
		t.Fatal(err)
	}
	var rec samplelog.Record
	seq := map[uint32]uint64{}
	period := map[uint32]int64{1: 1000 * us, 2: 2000 * us}
	in := map[uint32]int64{1: 250 * us, 2: 1250 * us}
	prev := map[uint32]int64{}
	var lastTxtime int64
	for r.Next(&rec) == nil {
		if rec.Type != samplelog.TypeTx {
			continue
		}
		if rec.Seq != seq[rec.Stream] || rec.Txtime-rec.CycleStart != in[rec.Stream] || rec.CycleStart%period[rec.Stream] != 0 {
			t.Errorf("stream %d: record %+v, want seq %d", rec.Stream, rec, seq[rec.Stream])
		}
		if p, ok := prev[rec.Stream]; ok && (rec.CycleStart-p)%period[rec.Stream] != 0 {
			t.Errorf("stream %d: cycle starts %d apart", rec.Stream, rec.CycleStart-p)
		}
		if rec.Txtime < lastTxtime { // one timeline: sent in txtime order
			t.Errorf("stream %d: txtime %d before the previous packet's %d", rec.Stream, rec.Txtime, lastTxtime)
		}
		lastTxtime, prev[rec.Stream] = rec.Txtime, rec.CycleStart
		seq[rec.Stream]++
	}
	if seq[1] != 20 || seq[2] != 10 {
		t.Errorf("log: %v packets per stream", seq)
	}
}
