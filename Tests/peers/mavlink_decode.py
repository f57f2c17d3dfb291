#!/usr/bin/env python3
"""Decodes a file of MAVLink frames with pymavlink 2.4.50 (ardupilotmega dialect, MAVLink 2)
and prints what it understood as JSON: one object per message with its type, header ids,
sequence, and fields (text fields as pymavlink gives them).

Usage: mavlink_decode.py FILE
Exit status 3: pymavlink is not installed.
"""
import json
import os
import sys

os.environ["MAVLINK20"] = "1"
try:
    from pymavlink.dialects.v20 import ardupilotmega as mavlink2
except ImportError:
    sys.stderr.write("pymavlink is not installed\n")
    sys.exit(3)

data = open(sys.argv[1], "rb").read()
mav = mavlink2.MAVLink(None)
mav.robust_parsing = True
messages = mav.parse_buffer(data) or []
out = []
for m in messages:
    fields = {}
    for name in m.get_fieldnames():
        value = getattr(m, name)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        fields[name] = value
    out.append({
        "type": m.get_type(),
        "system": m.get_srcSystem(),
        "component": m.get_srcComponent(),
        "sequence": m.get_seq(),
        "fields": fields,
    })
print(json.dumps({"messages": out, "bad": mav.total_receive_errors}))
