#!/usr/bin/env python3
"""Reads a ULog file with pyulog 1.3.0 and prints what it found as JSON on stdout.

Usage: ulog_peer.py FILE.ulg

Numbers are printed as strings so that nothing is lost on the way: integers in
decimal, real numbers as "f:" and the 16 hex digits of the IEEE 754 double (a float
field is widened to double exactly). Exit status 3: pyulog is not installed.
"""
import json
import struct
import sys

try:
    from pyulog import ULog
except ImportError:
    sys.stderr.write("ulog_peer.py: the Python package pyulog is not installed\n")
    sys.exit(3)


def text(value):
    """A numpy or Python scalar as an exact string."""
    kind = getattr(value, "dtype", None)
    if kind is not None and kind.kind == "f" or isinstance(value, float):
        return "f:%016x" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]
    return str(int(value))


def main():
    ulog = ULog(sys.argv[1], None, False)
    topics = {}
    for data in ulog.data_list:
        key = "%s/%d" % (data.name, data.multi_id)
        topics[key] = {name: [text(v) for v in column] for name, column in data.data.items()}
    logging = [
        {"level": str(m.log_level), "timestamp": str(m.timestamp), "message": m.message, "tag": ""}
        for m in ulog.logged_messages
    ]
    for tag, messages in ulog.logged_messages_tagged.items():
        logging += [
            {"level": str(m.log_level), "timestamp": str(m.timestamp), "message": m.message, "tag": str(tag)}
            for m in messages
        ]
    result = {
        "start": str(ulog.start_timestamp),
        "corrupt": ulog.file_corruption,
        "info": {k: str(v) for k, v in ulog.msg_info_dict.items()},
        "multi": {k: [[str(p) for p in parts] for parts in v] for k, v in ulog.msg_info_multiple_dict.items()},
        "topics": topics,
        "logging": logging,
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
