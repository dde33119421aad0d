ptp4l -f /run/tsnctl/ptp/ptp4l.conf -S -m -q
