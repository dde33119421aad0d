ptp4l -f /run/tsnctl/ptp/ptp4l-enp5s0.conf -H -m -q
phc2sys -s enp5s0 -c CLOCK_REALTIME -w -m -q -z /run/tsnctl/ptp/ptp4l -n 0
