package sender

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// threadSets is each thread's CPU set but the caller's.
func threadSets(t *testing.T) map[int]unix.CPUSet {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	sets := map[int]unix.CPUSet{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		var set unix.CPUSet
		if tid == unix.Gettid() || unix.SchedGetaffinity(tid, &set) != nil {
			continue
		}
		sets[tid] = set
	}
	return sets
}

// pinThreads moves every other thread of the process onto the loop's CPU (the Go scheduler's
// helpers that hand the locked loop thread its P back run there) and its restore puts each back.
// Mutation it catches: pinThreads skipping the threads or restore leaving them pinned.
func TestPinThreadsMovesTheOthersAndRestores(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// A few more threads: goroutines parked on locked threads.
	var ready, stop sync.WaitGroup
	release := make(chan struct{})
	for range 3 {
		ready.Add(1)
		stop.Add(1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-release
			stop.Done()
		}()
	}
	ready.Wait()
	defer func() { close(release); stop.Wait() }()

	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for i := range len(mine) * 64 {
		if mine.IsSet(i) {
			cpu = i // the last CPU this thread may use
		}
	}
	before := threadSets(t)
	if len(before) < 3 {
		t.Fatalf("%d other threads, want at least 3", len(before))
	}
	restore := pinThreads(cpu)
	for tid, set := range threadSets(t) {
		if set.Count() != 1 || !set.IsSet(cpu) {
			t.Errorf("thread %d after pinThreads(%d): %d CPUs allowed, want only CPU %d", tid, cpu, set.Count(), cpu)
		}
	}
	restore()
	for tid, set := range threadSets(t) {
		if was, ok := before[tid]; ok && set != was {
			t.Errorf("thread %d after restore: CPU set %v, want %v as before", tid, set, was)
		}
	}
	var now unix.CPUSet
	unix.SchedGetaffinity(0, &now)
	if now != mine {
		t.Errorf("the calling thread's CPU set changed: %v, was %v", now, mine)
	}
}
