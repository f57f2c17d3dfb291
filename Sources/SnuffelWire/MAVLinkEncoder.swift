/// Encodes the MAVLink 2 messages the onboard daemon sends: HEARTBEAT as an onboard
/// computer, STATUSTEXT for detections and NAMED_VALUE_FLOAT for live values.
///
/// Frames are MAVLink 2 (`0xFD`), unsigned, with the payload's trailing zero bytes cut
/// (payload truncation, at least one byte kept) and the CRC-16/MCRF4XX over the header,
/// the payload and the message's CRC_EXTRA from ``MAVLinkMessageTable/ardupilotmega``. Field
/// orders follow the message definitions of mavlink's `common.xml`: fields sorted by type
/// size, extension fields last in their declared order.
///
/// The encoder keeps the sequence number, which wraps at 255.
public struct MAVLinkEncoder: Sendable {
    /// The sender's system and component ids (the autopilot's system id, and 191
    /// `MAV_COMP_ID_ONBOARD_COMPUTER` for the daemon).
    public var systemID: UInt8
    public var componentID: UInt8
    /// The next frame's sequence number.
    public private(set) var sequence: UInt8 = 0

    /// `MAV_COMP_ID_ONBOARD_COMPUTER`.
    public static let onboardComputer: UInt8 = 191
    /// `MAV_TYPE_ONBOARD_CONTROLLER`.
    public static let typeOnboardController: UInt8 = 18
    /// `MAV_AUTOPILOT_INVALID`.
    public static let autopilotInvalid: UInt8 = 8
    /// `MAV_STATE_ACTIVE`.
    public static let stateActive: UInt8 = 4

    /// Message ids.
    enum ID {
        static let heartbeat: UInt32 = 0
        static let namedValueFloat: UInt32 = 251
        static let commandAck: UInt32 = 77
        static let statusText: UInt32 = 253
    }

    public init(systemID: UInt8, componentID: UInt8 = MAVLinkEncoder.onboardComputer) {
        self.systemID = systemID
        self.componentID = componentID
    }

    /// A HEARTBEAT frame: an onboard controller, no autopilot, in the given state.
    public mutating func heartbeat(systemStatus: UInt8 = MAVLinkEncoder.stateActive) -> [UInt8] {
        var p = MAVLinkPayloadWriter(length: 9)
        p.put32(0, 0)  // custom_mode
        p.put8(4, Self.typeOnboardController)
        p.put8(5, Self.autopilotInvalid)
        p.put8(6, 0)  // base_mode
        p.put8(7, systemStatus)
        p.put8(8, 3)  // mavlink_version: 3 for MAVLink 2
        return frame(ID.heartbeat, p.bytes)
    }

    /// STATUSTEXT frames for a text: one frame when it fits in 50 bytes; otherwise chunks of
    /// 50 bytes sharing a non-zero `id`, numbered by `chunk_seq`, the last one shorter than
    /// 50 bytes or followed by an empty one, as the message's definition asks. The text
    /// field is `char`: ground stations decode it as ASCII, so other characters are spelled
    /// in ASCII (`±` as `+/-`, `—` as `-`, `°` as ` deg`, `µ` as `u`, `σ` as ` sigma`) or
    /// replaced by `?`.
    ///
    /// - Parameters:
    ///   - severity: `MAV_SEVERITY`: 0 emergency, 1 alert, 2 critical, 3 error, 4 warning,
    ///     5 notice, 6 info, 7 debug.
    ///   - text: The text, UTF-8.
    ///   - id: The id shared by the chunks of a long text (ignored for a short one).
    public mutating func statusText(severity: UInt8, _ text: String, id: UInt16 = 1) -> [[UInt8]] {
        let bytes = Array(Self.ascii(text).utf8)
        if bytes.count <= 50 { return [statusTextFrame(severity: severity, bytes[...], id: 0, chunk: 0)] }
        var frames: [[UInt8]] = []
        var start = 0
        var chunk: UInt8 = 0
        while start < bytes.count && chunk < 255 {
            let end = min(bytes.count, start + 50)
            frames.append(statusTextFrame(severity: severity, bytes[start..<end], id: max(1, id), chunk: chunk))
            start = end
            chunk += 1
        }
        if bytes.count % 50 == 0 && chunk < 255 {
            frames.append(statusTextFrame(severity: severity, [][...], id: max(1, id), chunk: chunk))
        }
        return frames
    }

    /// The text in ASCII, for `char` fields.
    static func ascii(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "±": out += "+/-"
            case "—", "–", "−": out += "-"
            case "°": out += " deg"
            case "µ", "μ": out += "u"
            case "σ": out += " sigma"
            case "’", "‘": out += "'"
            case "“", "”": out += "\""
            default: out.unicodeScalars.append(scalar.isASCII ? scalar : "?")
            }
        }
        return out
    }

    private mutating func statusTextFrame(severity: UInt8, _ text: ArraySlice<UInt8>, id: UInt16, chunk: UInt8) -> [UInt8] {
        var p = MAVLinkPayloadWriter(length: 54)
        p.put8(0, severity)
        for (i, b) in text.prefix(50).enumerated() { p.put8(1 + i, b) }
        p.put16(51, id)
        p.put8(53, chunk)
        return frame(ID.statusText, p.bytes)
    }

    /// A NAMED_VALUE_FLOAT frame.
    /// - Parameters:
    ///   - name: At most 10 bytes of ASCII (longer names are cut), e.g. `VOCIDX`, `PID_PPB`.
    ///   - value: The value.
    ///   - timeBootMs: Milliseconds since the sender booted.
    public mutating func namedValueFloat(_ name: String, _ value: Float, timeBootMs: UInt32) -> [UInt8] {
        var p = MAVLinkPayloadWriter(length: 18)
        p.put32(0, timeBootMs)
        p.put32(4, value.bitPattern)
        for (i, b) in name.utf8.prefix(10).enumerated() { p.put8(8 + i, b) }
        return frame(ID.namedValueFloat, p.bytes)
    }

    /// A COMMAND_ACK answering a command (MAV_RESULT: 0 accepted, 1 temporarily rejected,
    /// 2 denied, 3 unsupported, 4 failed) to the system and component that sent it.
    public mutating func commandAck(command: UInt16, result: UInt8, targetSystem: UInt8, targetComponent: UInt8) -> [UInt8] {
        var p = MAVLinkPayloadWriter(length: 10)
        p.put16(0, command)
        p.put8(2, result)
        p.put8(8, targetSystem)
        p.put8(9, targetComponent)
        return frame(ID.commandAck, p.bytes)
    }

    /// Frames a payload as MAVLink 2 with the next sequence number.
    mutating func frame(_ messageID: UInt32, _ payload: [UInt8]) -> [UInt8] {
        var length = payload.count
        while length > 1 && payload[length - 1] == 0 { length -= 1 }
        var out: [UInt8] = [
            MAVLink.startV2, UInt8(length), 0, 0, sequence, systemID, componentID,
            UInt8(truncatingIfNeeded: messageID), UInt8(truncatingIfNeeded: messageID >> 8),
            UInt8(truncatingIfNeeded: messageID >> 16),
        ]
        out.append(contentsOf: payload[..<length])
        var crc = MAVLink.crc(out[1...])
        crc = MAVLink.accumulate(MAVLinkMessageTable.ardupilotmega[messageID]?.crcExtra ?? 0, crc)
        out.append(UInt8(truncatingIfNeeded: crc))
        out.append(UInt8(truncatingIfNeeded: crc >> 8))
        sequence &+= 1
        return out
    }
}

/// A message payload being written, little-endian at fixed offsets.
struct MAVLinkPayloadWriter {
    var bytes: [UInt8]

    init(length: Int) { bytes = Array(repeating: 0, count: length) }

    mutating func put8(_ offset: Int, _ v: UInt8) { bytes[offset] = v }

    mutating func put16(_ offset: Int, _ v: UInt16) {
        for i in 0..<2 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }

    mutating func put32(_ offset: Int, _ v: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
}
