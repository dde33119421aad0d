ptp4l -f /run/tsnctl/ptp/ptp4l-eth1.conf -H -m -q
phc2sys -s CLOCK_REALTIME -c eth1 -w -m -q -z /run/tsnctl/ptp/ptp4l -n 3
