#!/bin/bash
# make bench-wakeup-lab, in the guest: tsnctl's sender loop against cyclictest (rt-tests) in the
# lab's virtual time, where the guest's clock advances with the instructions executed: what
# differs between the two is their code path, not the host's noise. Same interval, SCHED_FIFO
# priority, CPU and loop count, in alternating rounds.
set -euo pipefail
echo "guest clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) (time base: $LAB_TIME)"
tsnctl calibrate --interval 2ms --loops 20000 --rounds 20 --fifo 80 --cpu 1 --compare-cyclictest
tsnctl calibrate --interval 250us --loops 40000 --rounds 20 --fifo 80 --cpu 1 --compare-cyclictest
