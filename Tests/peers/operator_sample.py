#!/usr/bin/env python3
"""Plays a ground station operator for Snuffel's sampler test with pymavlink 2.4.50: sends
GCS heartbeats to 127.0.0.1:PORT, then COMMAND_LONG MAV_CMD_USER_1 (31010) to component 191
of system 1 with param1 = 0 (the next free tube), then the same for tube 1 (running by
then), and collects the COMMAND_ACKs and STATUSTEXTs that come back. Prints JSON.

Usage: operator_sample.py PORT SECONDS
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
link = mavutil.mavlink_connection("udpout:127.0.0.1:%d" % port, source_system=255, source_component=190)
start = time.time()
acks, texts = [], []
sent = []
next_heartbeat = 0.0
while time.time() - start < seconds:
    now = time.time() - start
    if now >= next_heartbeat:
        link.mav.heartbeat_send(mavutil.mavlink.MAV_TYPE_GCS, mavutil.mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 4)
        next_heartbeat += 0.5
    if now >= 1.0 and len(sent) == 0:
        link.mav.command_long_send(1, 191, 31010, 0, 0, 0, 0, 0, 0, 0, 0)
        sent.append("next")
    if now >= 2.0 and len(sent) == 1:
        link.mav.command_long_send(1, 191, 31010, 0, 1, 0, 0, 0, 0, 0, 0)
        sent.append("tube 1")
    m = link.recv_match(blocking=True, timeout=0.05)
    if m is None:
        continue
    if m.get_type() == "COMMAND_ACK":
        acks.append({"command": m.command, "result": m.result, "target_system": m.target_system,
                     "target_component": m.target_component, "from_component": m.get_srcComponent()})
    elif m.get_type() == "STATUSTEXT":
        texts.append(m.text)
print(json.dumps({"sent": sent, "acks": acks, "texts": texts}))
