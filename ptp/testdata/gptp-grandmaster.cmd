ptp4l -f /run/tsnctl/ptp/ptp4l.conf -H -m -q
phc2sys -s CLOCK_REALTIME -c eth1 -w -m -q -z /var/run/ptp4l -n 3
