#!/usr/bin/env python3
"""Plays an autopilot on a serial line for Snuffel's serial MAVLink test, with pymavlink
2.4.50: opens a pseudo-terminal, prints the path of its far end (where the daemon is to
connect, as to an autopilot's TELEM port), then for SECONDS sends HEARTBEAT, SYSTEM_TIME
and GLOBAL_POSITION_INT at 10 Hz on it and decodes with pymavlink every message that comes
back. Prints JSON: the positions sent and the messages received.

Usage: autopilot_pty.py SECONDS
Exit status 3: pymavlink is not installed.
"""
import json
import os
import select
import sys
import time
import tty

os.environ["MAVLINK20"] = "1"
try:
    from pymavlink import mavutil
    from pymavlink.dialects.v20 import ardupilotmega as mavlink2
except ImportError:
    sys.stderr.write("pymavlink is not installed\n")
    sys.exit(3)

seconds = float(sys.argv[1])
master, slave = os.openpty()
tty.setraw(master)
tty.setraw(slave)
print(os.ttyname(slave), flush=True)


class Line:
    def write(self, data):
        os.write(master, data)


mav = mavlink2.MAVLink(Line(), srcSystem=1, srcComponent=1)
mav.robust_parsing = True
boot_utc_us = 1790000000000000
positions, received = [], []
start = time.time()
step = 0
while time.time() - start < seconds:
    boot_ms = step * 100
    mav.heartbeat_send(mavutil.mavlink.MAV_TYPE_QUADROTOR, mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 4)
    mav.system_time_send(boot_utc_us + boot_ms * 1000, boot_ms)
    lat, lon = 514500000 + step * 10, 54800000 + step * 5
    mav.global_position_int_send(boot_ms, lat, lon, 30000, 10000, 500, 250, 0, 9000)
    positions.append({"boot_ms": boot_ms, "lat": lat, "lon": lon})
    step += 1
    deadline = time.time() + 0.1
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.time()))
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        for m in mav.parse_buffer(data) or []:
            fields = {}
            for name in m.get_fieldnames():
                value = getattr(m, name)
                if isinstance(value, bytes):
                    value = value.decode("ascii", "replace")
                fields[name] = value
            received.append({"type": m.get_type(), "system": m.get_srcSystem(), "component": m.get_srcComponent(),
                             "fields": fields})
print(json.dumps({"positions": positions, "boot_utc_us": boot_utc_us, "received": received}), flush=True)
