import Foundation
import SnuffelGround
import SnuffelPeerTesting
import SnuffelReview
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A test's temporary files: each directory and flight copy it hands out lies below one
/// folder, which `remove()` deletes (call it in a `defer`).
struct Scratch {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-review-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// A new empty directory.
    func directory() throws -> String {
        let path = root + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A copy of a bundled flight in a new directory (so its review store starts empty).
    func flight(_ name: String = "mdma-lab.ulg") throws -> String {
        let path = try directory() + "/" + name
        try FileManager.default.copyItem(atPath: Files.root + "/flightlogs/" + name, toPath: path)
        return path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Files and programs the report and review tests use.
enum Files {
    /// The repository (three levels above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The built `snuffel`, beside the test bundle (or in .build/debug).
    static var snuffel: String {
        let bundle = Bundle.main.bundleURL
        return [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("snuffel").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? root + "/.build/debug/snuffel"
    }

    /// Runs `snuffel` with arguments (and another PATH); a non-zero status is returned, not thrown.
    static func run(_ arguments: [String], path: String? = nil) throws -> Peer.Output {
        // /usr/bin/env sets PATH for the one command when asked to.
        try Peer.run((path.map { ["PATH=\($0)"] } ?? []) + [snuffel] + arguments, install: "swift build", allowFailure: true).get()
    }

    /// Counts the non-overlapping occurrences of `part` in `text`.
    static func count(_ part: String, in text: String) -> Int {
        text.components(separatedBy: part).count - 1
    }
}

/// Headless Chromium as a peer (Debian's `chromium`, installed by scripts/setup).
enum Browser {
    static let install = "apt-get install chromium"
    static let flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]
    /// A browser that hangs is ended (coreutils' timeout) rather than holding the test run.
    static let browser = ["timeout", "120", "chromium"]

    /// Fails saying what to install when there is no Chromium (`timeout` would only say 127).
    static func require() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/chromium") }) else {
            throw Peer.Failure(description: "chromium is not installed. Run scripts/test, which installs it (\(install)); or set SNUFFEL_SKIP_PEERS=1 to skip.")
        }
    }

    /// The page's DOM after its scripts ran at load.
    static func dom(_ url: String) throws -> String {
        try require()
        return try Peer.run(browser + flags + ["--dump-dom", url], install: install).get().stdout
    }

    /// A screenshot of the page; returns the PNG's bytes.
    static func screenshot(_ url: String, to path: String, width: Int = 1200, height: Int = 2000) throws -> [UInt8] {
        try require()
        _ = try Peer.run(browser + flags + ["--screenshot=\(path)", "--window-size=\(width),\(height)", url], install: install).get()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The width and height in a PNG's header, or nil when the bytes are not a PNG.
    static func pngSize(_ png: [UInt8]) -> (width: Int, height: Int)? {
        guard png.count > 24, png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
              Array(png[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be32(_ at: Int) -> Int { png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }
}

/// An HTTP/1.1 reply.
struct HTTPReply {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A bare HTTP client over a socket, so that tests choose every header (Host, Origin)
/// and send paths exactly as written (`..` included).
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Sends a request and reads the reply on a thread of its own: the app's handlers run
    /// on the same cooperative pool as the tests, which a blocking read would starve.
    static func send(
        port: Int, _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil
    ) async throws -> HTTPReply {
        try await onOwnThread { try blockingSend(port: port, path, method: method, headers: headers, body: body) }
    }

    static func blockingSend(
        port: Int, _ path: String, method: String, headers: [String: String], body: String?
    ) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        var all = headers
        if all.keys.first(where: { $0.lowercased() == "host" }) == nil { all["Host"] = "127.0.0.1:\(port)" }
        all["Connection"] = "close"
        let payload = Array((body ?? "").utf8)
        if body != nil { all["Content-Length"] = String(payload.count) }
        var request = Array("\(method) \(path) HTTP/1.1\r\n".utf8)
        for (name, value) in all.sorted(by: { $0.key < $1.key }) { request += Array("\(name): \(value)\r\n".utf8) }
        request += Array("\r\n".utf8) + payload
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write: errno \(errno)") }
            sent += n
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            reply += buffer[..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP reply: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let first = lines.first, first.hasPrefix("HTTP/1."), let status = Int(first.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "bad status line: \(lines.first ?? "")")
        }
        let fields = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var bodyText = String(text[split.upperBound...])
        if fields.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.contains("chunked") }) {
            bodyText = dechunk(bodyText)
        }
        return HTTPReply(status: status, headers: fields, body: bodyText)
    }

    static func dechunk(_ text: String) -> String {
        var out = "", rest = Substring(text)
        while let end = rest.range(of: "\r\n"), let size = Int(rest[..<end.lowerBound], radix: 16), size > 0 {
            let start = end.upperBound
            let utf8 = rest.utf8
            guard let stop = utf8.index(start, offsetBy: size, limitedBy: utf8.endIndex) else { break }
            out += String(rest[start..<stop])
            rest = rest[stop...].dropFirst(2)
        }
        return out
    }
}

/// A review app running in this process for a test.
struct RunningReview {
    let port: Int
    let server: ReviewServer
    let task: Task<Void, any Error>

    /// Starts the app on a free port and waits (at most 60 s) until it listens.
    static func start(logs: [String], host: String = "127.0.0.1", token: String? = nil, tileURL: String? = nil) async throws -> RunningReview {
        let flights = try logs.map { try ReviewedFlight(path: $0, options: ReplayOptions()) }
        let server = ReviewServer(
            flights: flights, settings: ReviewSettings(host: host, port: 0, token: token, reviewer: "tester", tileURL: tileURL))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await server.run { port in continuation.yield(port) }
        }
        let port = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { for await port in ports { return port }; return nil }
            group.addTask { try await Task.sleep(for: .seconds(60)); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let port, port > 0 else {
            task.cancel()
            throw RawHTTP.Failure(description: "the review app did not start listening")
        }
        return RunningReview(port: port, server: server, task: task)
    }

    /// Stops the app and waits until it has.
    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// The session cookie (`name=value`) and CSRF token a page hands out, when it does.
    static func session(of page: HTTPReply) -> (cookie: String, token: String)? {
        guard let cookie = page.header("Set-Cookie")?.split(separator: ";").first,
              let start = page.body.range(of: #"<meta name="csrf-token" content=""#),
              let end = page.body[start.upperBound...].firstIndex(of: "\"") else { return nil }
        return (String(cookie), String(page.body[start.upperBound..<end]))
    }

    /// Opens a session as a browser does, by loading a flight's page.
    func session() async throws -> (cookie: String, token: String) {
        let page = try await RawHTTP.send(port: port, "/flight/0")
        guard let session = Self.session(of: page) else { throw RawHTTP.Failure(description: "the page opened no session") }
        return session
    }

    /// A state-changing request as the page sends it: session cookie, own Origin, the
    /// session's CSRF token, JSON.
    func post(_ path: String, _ body: String) async throws -> HTTPReply {
        let (cookie, token) = try await session()
        return try await RawHTTP.send(port: port, path, method: "POST", headers: [
            "Cookie": cookie, "Origin": "http://127.0.0.1:\(port)", "X-CSRF-Token": token, "Content-Type": "application/json",
        ], body: body)
    }
}
