#!/usr/bin/env python3
"""Writes autopilot logs for Snuffel's tests with the peers' own code, and reads them back
with the peers' readers to prove they are valid.

Usage:
  autopilot_logs.py tlog OUT POSES.csv BOOT_UTC_US VERSION [--garbage] [--signed] [--no-system-time]
                   [--gps-raw-only] [--reboot-at=INDEX] [--gcs-system-time]
  autopilot_logs.py dataflash OUT POSES.csv BOOT_UTC_US [--nkf2] [--reboot-at=INDEX]
  autopilot_logs.py ulog OUT POSES.csv BOOT_UTC_US
  autopilot_logs.py crc-extra

POSES.csv: lines `utc_us,lat,lon,alt_m,vn,ve` (a header line is skipped). BOOT_UTC_US: the
UTC µs at which the autopilot booted, so that its boot clock + BOOT_UTC_US = UTC.

tlog: pymavlink 2.4.50 (dialect ardupilotmega; VERSION 1 or 2; MAVLINK20 is set here before
pymavlink is imported), the records read back by pymavlink's mavutil. dataflash: FMT, GPS,
POS, ATT and XKF2 records packed by hand, read back by pymavlink's DFReader. ulog: PX4
topics (vehicle_global_position, vehicle_gps_position, vehicle_attitude, wind) packed by
hand, read back by pyulog 1.3.0. Prints JSON of what the peer read back on stdout.

The fallbacks a reader must cope with: --no-system-time leaves SYSTEM_TIME out of a tlog (only
the tlog's own timestamps, 20 ms after each message's time, tie it to UTC); --gps-raw-only
writes a GPS_RAW_INT (boot-clock time_usec) for every pose and no GLOBAL_POSITION_INT;
--reboot-at=INDEX reboots the autopilot at pose INDEX: from there its boot clock starts again,
3 s before that pose. --gcs-system-time adds the ground station's own SYSTEM_TIME (its boot
clock an hour ahead of the autopilot's) once a second. --nkf2 writes EKF2's NKF2 wind record instead of EKF3's XKF2.
Exit status 3: a peer is not installed.
"""
import json
import math
import os
import random
import struct
import sys

GPS_EPOCH = 315964800
LEAP = 18


def poses(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if not parts or not parts[0] or not parts[0][0].isdigit():
                continue
            t, lat, lon, alt, vn, ve = parts
            out.append((int(t), float(lat), float(lon), float(alt), float(vn), float(ve)))
    return out


def import_mavlink(version):
    os.environ["MAVLINK20"] = "1" if version == 2 else ""
    if version != 2:
        del os.environ["MAVLINK20"]
    try:
        if version == 2:
            from pymavlink.dialects.v20 import ardupilotmega as m
        else:
            from pymavlink.dialects.v10 import ardupilotmega as m
        from pymavlink import mavutil
    except ImportError:
        sys.stderr.write("autopilot_logs.py: pymavlink is not installed\n")
        sys.exit(3)
    return m, mavutil


def write_tlog(out, track, boot, version, garbage, signed, system_time=True, gps_raw_only=False, reboot_at=None,
               gcs_system_time=False):
    m, mavutil = import_mavlink(version)

    class Sink:
        def write(self, b):
            pass

    mav = m.MAVLink(Sink(), srcSystem=1, srcComponent=1)
    if signed:
        mav.signing.secret_key = bytes(range(32))
        mav.signing.link_id = 1
        mav.signing.timestamp = 1
        mav.signing.sign_outgoing = True
    gcs = m.MAVLink(Sink(), srcSystem=255, srcComponent=190)
    rng = random.Random(7)
    frames = 0
    with open(out, "wb") as f:
        def put(utc, msg, sender=mav):
            nonlocal frames
            buf = msg.pack(sender)
            f.write(struct.pack(">Q", utc) + buf)
            frames += 1
            if garbage and rng.random() < 0.05:
                f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))

        last_second = None
        for i, (utc, lat, lon, alt, vn, ve) in enumerate(track):
            if reboot_at is not None and i == reboot_at:
                boot = utc - 3_000_000
            boot_ms = (utc - boot) // 1000
            latency = 20000
            new_second = last_second != utc // 1000000
            if new_second:
                last_second = utc // 1000000
                put(utc + latency, m.MAVLink_heartbeat_message(2, 3, 81, 0, 4, 3))
                put(utc + latency, m.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3), gcs)
                if gcs_system_time:
                    put(utc + latency, m.MAVLink_system_time_message(utc, boot_ms + 3_600_000), gcs)
                if system_time:
                    put(utc + latency, m.MAVLink_system_time_message(utc, boot_ms))
                put(utc + latency, m.MAVLink_wind_message(270.0, 3.0, 0.25))
                put(utc + latency, m.MAVLink_wind_cov_message(utc, 0.0, 3.0, 0.25, 0.1, 0.1, alt, 0.5, 0.5))
            # Once a second, or for every pose when it is the only position.
            if new_second or gps_raw_only:
                fields = dict(time_usec=utc - boot, fix_type=3, lat=int(round(lat * 1e7)), lon=int(round(lon * 1e7)),
                              alt=int(round(alt * 1000)), eph=120, epv=150, vel=int(math.hypot(vn, ve) * 100), cog=0,
                              satellites_visible=12)
                if version == 2:
                    fields.update(alt_ellipsoid=0, h_acc=1500, v_acc=2000, vel_acc=300, hdg_acc=0, yaw=0)
                put(utc + latency, m.MAVLink_gps_raw_int_message(**fields))
            if not gps_raw_only:
                put(utc + latency, m.MAVLink_global_position_int_message(
                    boot_ms, int(round(lat * 1e7)), int(round(lon * 1e7)), int(round(alt * 1000)),
                    int(round(alt * 1000)) - 20000, int(round(vn * 100)), int(round(ve * 100)), 0, 0))
            put(utc + latency, m.MAVLink_attitude_message(boot_ms, 0.01, -0.02, 1.5, 0.0, 0.0, 0.0))
    # Read back with pymavlink (MAVLink 2 and 1 alike: its parser takes both).
    conn = mavutil.mavlink_connection(out, dialect="ardupilotmega", robust_parsing=True)
    counts = {}
    while True:
        msg = conn.recv_match()
        if msg is None:
            break
        if msg.get_type() == "BAD_DATA":
            continue
        counts[msg.get_type()] = counts.get(msg.get_type(), 0) + 1
    return {"written": frames, "read": counts}


def fmt_record(type_, name, fmt, labels):
    length = 3 + struct.calcsize("<" + "".join(DF_STRUCT[c] for c in fmt))
    return struct.pack("<BBBBB4s16s64s", 0xA3, 0x95, 128, type_, length, name.encode(), fmt.encode(), labels.encode())


DF_STRUCT = {"B": "B", "b": "b", "H": "H", "h": "h", "I": "I", "i": "i", "Q": "Q", "q": "q", "f": "f", "d": "d",
             "L": "i", "e": "i", "c": "h", "C": "H", "E": "I", "n": "4s", "N": "16s", "Z": "64s", "M": "b"}


def record(type_, fmt, *values):
    return struct.pack("<BBB" + "".join(DF_STRUCT[c] for c in fmt), 0xA3, 0x95, type_, *values)


def write_dataflash(out, track, boot, wind_record="XKF2", reboot_at=None):
    gps_fmt, gps_labels = "QBIHBcLLeffffB", "TimeUS,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U"
    pos_fmt, pos_labels = "QLLfff", "TimeUS,Lat,Lng,Alt,RelHomeAlt,RelOriginAlt"
    att_fmt, att_labels = "QccccCCCCB", "TimeUS,DesRoll,Roll,DesPitch,Pitch,DesYaw,Yaw,ErrRP,ErrYaw,AEKF"
    xkf_fmt, xkf_labels = "QBccccchhhh", "TimeUS,C,AX,AY,AZ,VWN,VWE,MN,ME,MD,MX"
    with open(out, "wb") as f:
        f.write(fmt_record(128, "FMT", "BBnNZ", "Type,Length,Name,Format,Columns"))
        f.write(fmt_record(130, "GPS", gps_fmt, gps_labels))
        f.write(fmt_record(131, "POS", pos_fmt, pos_labels))
        f.write(fmt_record(132, "ATT", att_fmt, att_labels))
        f.write(fmt_record(133, wind_record, xkf_fmt, xkf_labels))
        for i, (utc, lat, lon, alt, vn, ve) in enumerate(track):
            if reboot_at is not None and i == reboot_at:
                boot = utc - 3_000_000
            t = utc - boot
            gps_ms_total = (utc // 1000) - GPS_EPOCH * 1000 + LEAP * 1000
            week, ms = divmod(gps_ms_total, 604800 * 1000)
            speed = math.hypot(vn, ve)
            course = math.degrees(math.atan2(ve, vn)) % 360
            f.write(record(130, gps_fmt, t, 3, ms, week, 12, 80, int(round(lat * 1e7)), int(round(lon * 1e7)),
                           int(round(alt * 100)), speed, course, 0.0, 0.0, 1))
            f.write(record(131, pos_fmt, t, int(round(lat * 1e7)), int(round(lon * 1e7)), alt, alt - 20, alt - 20))
            f.write(record(132, att_fmt, t, 0, 57, 0, -115, 0, 8594, 0, 0, 1))
            f.write(record(133, xkf_fmt, t, 0, 0, 0, 0, 0, 300, 0, 0, 0, 0))
    try:
        from pymavlink import DFReader
    except ImportError:
        sys.stderr.write("autopilot_logs.py: pymavlink is not installed\n")
        sys.exit(3)
    reader = DFReader.DFReader_binary(out)
    counts = {}
    first_gps = None
    while True:
        msg = reader.recv_msg()
        if msg is None:
            break
        counts[msg.get_type()] = counts.get(msg.get_type(), 0) + 1
        if msg.get_type() == "GPS" and first_gps is None:
            first_gps = {k: getattr(msg, k) for k in ["TimeUS", "GMS", "GWk", "Lat", "Lng", "Alt", "Spd"]}
    return {"read": counts, "first_gps": first_gps}


def ulog_message(kind, payload):
    return struct.pack("<HB", len(payload), ord(kind)) + payload


def write_ulog(out, track, boot):
    formats = {
        "vehicle_global_position": [("uint64_t", "timestamp"), ("double", "lat"), ("double", "lon"), ("float", "alt"),
                                    ("float", "eph"), ("uint8_t", "lat_lon_reset_counter"), ("uint8_t[7]", "_padding0")],
        "vehicle_gps_position": [("uint64_t", "timestamp"), ("uint64_t", "time_utc_usec"), ("int32_t", "lat"),
                                 ("int32_t", "lon"), ("int32_t", "alt"), ("float", "eph"), ("float", "vel_n_m_s"),
                                 ("float", "vel_e_m_s"), ("uint8_t", "fix_type"), ("uint8_t[3]", "_padding0")],
        "vehicle_attitude": [("uint64_t", "timestamp"), ("float[4]", "q"), ("uint8_t", "quat_reset_counter"),
                             ("uint8_t[3]", "_padding0")],
        "wind_sample": [("float", "speed"), ("float", "var")],
        "wind": [("uint64_t", "timestamp"), ("float", "windspeed_north"), ("float", "windspeed_east"),
                 ("wind_sample[2]", "samples")],
    }
    ids = {"vehicle_global_position": 0, "vehicle_gps_position": 1, "vehicle_attitude": 2, "wind": 3}
    with open(out, "wb") as f:
        f.write(b"ULog\x01\x12\x35\x01" + struct.pack("<Q", track[0][0] - boot))
        flags = bytes(40)
        f.write(ulog_message("B", flags))
        for name, fields in formats.items():
            text = name + ":" + "".join("%s %s;" % field for field in fields)
            f.write(ulog_message("F", text.encode()))
        key = b"char[4] sys_name"
        f.write(ulog_message("I", bytes([len(key)]) + key + b"PX4_"))
        for name, msg_id in ids.items():
            f.write(ulog_message("A", struct.pack("<BH", 0, msg_id) + name.encode()))
        # A second GPS instance that must be left out.
        f.write(ulog_message("A", struct.pack("<BH", 1, 9) + b"vehicle_gps_position"))
        last_second = None
        half = math.sqrt(0.5)
        for utc, lat, lon, alt, vn, ve in track:
            t = utc - boot
            f.write(ulog_message("D", struct.pack("<HQddffB", 0, t, lat, lon, alt, 1.5, 0)))
            if last_second != utc // 1000000:
                last_second = utc // 1000000
                f.write(ulog_message("D", struct.pack(
                    "<HQQiiifffB", 1, t, utc, int(round(lat * 1e7)), int(round(lon * 1e7)), int(round(alt * 1000)),
                    1.2, vn, ve, 3)))
                f.write(ulog_message("D", struct.pack(
                    "<HQQiiifffB", 9, t, utc + 5_000_000, 0, 0, 0, 9.9, 0, 0, 3)))
                f.write(ulog_message("D", struct.pack("<HQffffB", 2, t, half, 0.0, 0.0, half, 0)))
                f.write(ulog_message("D", struct.pack("<HQffffff", 3, t, 0.0, 3.0, 3.0, 0.1, 3.0, 0.1)))
    try:
        from pyulog import ULog
    except ImportError:
        sys.stderr.write("autopilot_logs.py: pyulog is not installed\n")
        sys.exit(3)
    ulog = ULog(out, None, False)
    return {"read": {"%s/%d" % (d.name, d.multi_id): len(d.data["timestamp"]) for d in ulog.data_list},
            "corrupt": ulog.file_corruption}


def crc_extra():
    m, _ = import_mavlink(2)
    return {str(i): [c.msgname, c.crc_extra, c.unpacker.size] for i, c in m.mavlink_map.items()}


def main():
    kind = sys.argv[1]
    if kind == "crc-extra":
        result = crc_extra()
    else:
        out, track, boot = sys.argv[2], poses(sys.argv[3]), int(sys.argv[4])
        reboot = [int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--reboot-at=")]
        if kind == "tlog":
            result = write_tlog(out, track, boot, int(sys.argv[5]), "--garbage" in sys.argv, "--signed" in sys.argv,
                                system_time="--no-system-time" not in sys.argv, gps_raw_only="--gps-raw-only" in sys.argv,
                                reboot_at=reboot[0] if reboot else None, gcs_system_time="--gcs-system-time" in sys.argv)
        elif kind == "dataflash":
            result = write_dataflash(out, track, boot, "NKF2" if "--nkf2" in sys.argv else "XKF2",
                                     reboot[0] if reboot else None)
        elif kind == "ulog":
            result = write_ulog(out, track, boot)
        else:
            sys.exit("unknown kind " + kind)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
