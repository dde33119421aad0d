ptp4l -f /run/tsnctl/ptp/ptp4l.conf -H -m -q
phc2sys -s enp5s0 -c CLOCK_REALTIME -w -m -q -z /var/run/ptp4l -n 0
