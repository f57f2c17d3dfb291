#!/usr/bin/env python3
"""Plays systemd's end of the sd_notify protocol for Snuffel's service tests: binds a UNIX
datagram socket at PATH, prints "listening" once bound, collects every datagram until one
says STOPPING=1 or SECONDS pass, and prints them as a JSON list of strings.

Usage: notify_socket.py PATH SECONDS
"""
import json
import os
import socket
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
messages = []
deadline = time.time() + seconds
while time.time() < deadline:
    s.settimeout(max(0.01, deadline - time.time()))
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    messages.append(data.decode("utf-8", "replace"))
    if "STOPPING=1" in data.decode("utf-8", "replace"):
        break
print(json.dumps(messages))
