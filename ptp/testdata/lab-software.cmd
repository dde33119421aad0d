ptp4l -f /run/tsnctl/ptp/ptp4l-eth0.conf -S -m -q
