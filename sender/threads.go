package sender

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinThreads moves every other thread of this process onto cpu, and returns what moves each back
// to the CPUs it had.
//
// Why: the loop's thread is locked to its goroutine, and the Go scheduler cannot run a locked
// goroutine again (after runtime.Gosched, or the runtime's preemption after 10 ms) without another
// thread of the process: that one takes the goroutine from the run queue and hands the locked
// thread a P. Left on the other CPUs, that thread is an ordinary task queued behind whatever runs
// there. In the lab (iperf3, the receiver and a refused apply on CPU 0) a yield took 50-80 µs and
// now and then 2-3 ms, the loop woke that late, and the ETF dropped the packets whose txtime had
// passed. On the loop's CPU the helper runs as soon as the loop blocks (a yield took under 20 µs),
// and the loop, at real-time priority, preempts it when its own timer fires. Threads the runtime
// starts later are cloned from these, so they inherit the CPU. Another task on the loop's CPU
// delays the helper as before: that CPU is best kept for the loop (isolcpus, or pin the rest).
func pinThreads(cpu int) (restore func()) {
	self := unix.Gettid()
	var set unix.CPUSet
	set.Set(cpu)
	old := map[int]unix.CPUSet{}
	// Twice: a thread the runtime started while the first pass ran is cloned from one not yet moved.
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			break
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil || tid == self {
				continue
			}
			if _, done := old[tid]; done {
				continue
			}
			var was unix.CPUSet
			if unix.SchedGetaffinity(tid, &was) != nil {
				continue // ended since
			}
			if unix.SchedSetaffinity(tid, &set) == nil {
				old[tid] = was
			}
		}
	}
	return func() {
		for tid, was := range old {
			unix.SchedSetaffinity(tid, &was) // a thread that has ended since: nothing to restore
		}
	}
}
