#!/usr/bin/env python3
"""Plays an ArduPilot autopilot for Snuffel's link tests with pymavlink 2.4.50: sends
HEARTBEAT, SYSTEM_TIME, GLOBAL_POSITION_INT and WIND at 10 Hz to 127.0.0.1:PORT for SECONDS,
decodes with pymavlink every message that comes back on the same socket, and prints JSON:
what it sent (counts, the last position) and what it received.

With PAUSE_FROM and PAUSE_TO (seconds) it falls silent in between, as a lost radio link
does, and also sends ATTITUDE; the JSON then lists every position sent with its time.

Usage: autopilot_udp.py PORT SECONDS [PAUSE_FROM PAUSE_TO]
Exit status 3: pymavlink is not installed.
"""
import json
import os
import sys
import time

os.environ["MAVLINK20"] = "1"
try:
    from pymavlink import mavutil
except ImportError:
    sys.stderr.write("pymavlink is not installed\n")
    sys.exit(3)

port, seconds = int(sys.argv[1]), float(sys.argv[2])
pause = (float(sys.argv[3]), float(sys.argv[4])) if len(sys.argv) > 4 else None
positions = []
link = mavutil.mavlink_connection("udpout:127.0.0.1:%d" % port, source_system=1, source_component=1,
                                  dialect="ardupilotmega")
start = time.time()
boot_utc_us = 1790000000000000
sent = {"HEARTBEAT": 0, "SYSTEM_TIME": 0, "GLOBAL_POSITION_INT": 0, "WIND": 0}
received = []
step = 0
while time.time() - start < seconds:
    boot_ms = step * 100
    if pause and pause[0] <= time.time() - start < pause[1]:
        step += 1
        time.sleep(0.1)
        continue
    link.mav.heartbeat_send(mavutil.mavlink.MAV_TYPE_QUADROTOR, mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 4)
    link.mav.system_time_send(boot_utc_us + boot_ms * 1000, boot_ms)
    if pause:
        link.mav.attitude_send(boot_ms, 0.05, -0.02, 1.25, 0, 0, 0)
    lat, lon = 514500000 + step * 10, 54800000 + step * 5
    link.mav.global_position_int_send(boot_ms, lat, lon, 30000, 10000, 500, 250, 0, 9000)
    link.mav.wind_send(240.0, 3.5, 0.0)
    if pause:
        positions.append({"boot_ms": boot_ms, "lat": lat, "lon": lon})
    for k in sent:
        sent[k] += 1
    step += 1
    deadline = time.time() + 0.1
    while time.time() < deadline:
        m = link.recv_match(blocking=True, timeout=max(0.0, deadline - time.time()))
        if m is None:
            continue
        if m.get_type() == "BAD_DATA":
            received.append({"type": "BAD_DATA"})
            continue
        fields = {}
        for name in m.get_fieldnames():
            value = getattr(m, name)
            if isinstance(value, bytes):
                value = value.decode("ascii", "replace")
            fields[name] = value
        received.append({"type": m.get_type(), "system": m.get_srcSystem(), "component": m.get_srcComponent(),
                         "fields": fields})
print(json.dumps({"sent": sent, "last_position": [lat, lon], "boot_utc_us": boot_utc_us, "received": received,
                  "positions": positions}))
