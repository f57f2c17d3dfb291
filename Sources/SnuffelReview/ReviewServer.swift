import Foundation
import Hummingbird
import SnuffelCore
import SnuffelGround
import SnuffelSigning

/// A flight the review app serves: the replay with the log's own configuration, its view,
/// and its marks' store.
public struct ReviewedFlight: Sendable {
    public var path: String
    public var result: ReplayResult
    public var view: FlightView
    public var store: ReviewStore
    /// The view as JSON, made once.
    var viewJSON: String

    /// Replays a log and opens (or creates) its review store beside it.
    /// - Parameters:
    ///   - path: The flight log; it is only read.
    ///   - options: The replay's options (configuration for CSV files).
    ///   - progress: The fraction read, now and then.
    /// - Throws: ``ReviewSetupError`` naming the file and the reason.
    public init(path: String, options: ReplayOptions, progress: ((Double) -> Void)? = nil) throws(ReviewSetupError) {
        self.path = path
        do {
            (result, _, view) = try FlightView.replay(path: path, options: options, progress: progress)
        } catch {
            throw ReviewSetupError(description: error.description)
        }
        let digest: (hex: String, byteCount: Int)
        do {
            digest = try LogDigest.sha256(path: path)
        } catch {
            throw ReviewSetupError(description: error.description)
        }
        do {
            store = try ReviewStore(log: path, logSHA256: digest.hex)
        } catch {
            throw ReviewSetupError(description: error.description)
        }
        do {
            viewJSON = String(decoding: try view.json(), as: UTF8.self)
        } catch {
            throw ReviewSetupError(description: "\(path): cannot encode the flight for the page: \(error)")
        }
    }
}

/// The review app could not start: a log, its store or the address was refused.
public struct ReviewSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(description: String) { self.description = description }
}

/// How the review app listens and who it lets in.
public struct ReviewSettings: Sendable {
    /// The address to bind: 127.0.0.1 (the default) lets in only this machine.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    /// The access token: required (as `?token=`, which sets a cookie, or a Bearer header)
    /// unless the app listens on a loopback address only.
    public var token: String?
    /// The reviewer's name, recorded with each mark unless the page gives one.
    public var reviewer: String
    /// An XYZ tile URL (`https://tile.example/{z}/{x}/{y}.png`) for a map background when
    /// online; nil for the offline background only.
    public var tileURL: String?

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, reviewer: String, tileURL: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
        self.reviewer = reviewer
        self.tileURL = tileURL
    }

    /// Whether the address is a loopback one (only this machine can connect).
    public var isLoopback: Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }

    /// A new random access token (32 hexadecimal digits).
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// `snuffel review`: a local web app to look at flights on a map, judge each detection and
/// re-run detection with other settings.
///
/// Security: by default it listens on 127.0.0.1 only; elsewhere it requires the access
/// token. State-changing requests (POST) need the session cookie and that session's CSRF
/// token (given in its pages) in `X-CSRF-Token`, an
/// `Origin` (or `Referer`) of the app itself and a JSON body; the Host header must name the
/// app (against DNS rebinding) when it listens on loopback. It serves no files: logs are
/// addressed by their index among those given, so nothing else can be read.
public struct ReviewServer: Sendable {
    public let flights: [ReviewedFlight]
    public let settings: ReviewSettings
    /// The browser sessions and their CSRF tokens.
    public let sessions = ReviewSessions()

    public init(flights: [ReviewedFlight], settings: ReviewSettings) {
        self.flights = flights
        self.settings = settings
    }

    /// Runs the app until cancelled (or, with `stopOnSignals`, until SIGTERM or SIGINT).
    /// - Parameters:
    ///   - stopOnSignals: Whether SIGTERM and SIGINT stop it gracefully.
    ///   - onRunning: Called with the port once it is listening.
    public func run(stopOnSignals: Bool = false, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        let router = Router()
        router.add(middleware: ReviewGuard(settings: settings, sessions: sessions))
        addRoutes(to: router)
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "snuffel-review"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
        // Requests are not logged: the terminal shows the address and problems only.
        app.logger.logLevel = .warning
        if stopOnSignals {
            try await app.runService()
        } else {
            try await app.runService(gracefulShutdownSignals: [])
        }
    }

    static func response(_ status: HTTPResponse.Status = .ok, type: String, _ body: String) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "no-store"]
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":"cannot encode"}"#
        return response(status, type: "application/json; charset=utf-8", text)
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }

    /// The flight named by the path's `flight` parameter (its index), or nil.
    func flight(_ context: BasicRequestContext) -> ReviewedFlight? {
        guard let text = context.parameters.get("flight"), let index = Int(text), flights.indices.contains(index) else { return nil }
        return flights[index]
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Self.response(type: "text/html; charset=utf-8", ReviewPage.index(flights: flights))
        }
        router.get("/static/review.js") { _, _ in
            Self.response(type: "text/javascript; charset=utf-8", ReviewPage.script)
        }
        router.get("/static/review.css") { _, _ in
            Self.response(type: "text/css; charset=utf-8", ReviewPage.css)
        }
        router.get("/flight/:flight") { request, context in
            guard let flight = flight(context), let index = Int(context.parameters.get("flight") ?? "") else {
                return Self.problem(.notFound, "no such flight")
            }
            // The browser's session (opened here when it has none) and its CSRF token.
            let known = request.cookies[ReviewSessions.cookie].flatMap { cookie in
                sessions.token(session: cookie.value).map { (id: cookie.value, token: $0) }
            }
            let session = known ?? sessions.open()
            let marks = (try? flight.store.marks()) ?? [:]
            var response = Self.response(type: "text/html; charset=utf-8", ReviewPage.flight(
                flight, index: index, marks: marks, csrfToken: session.token, reviewer: settings.reviewer, tileURL: settings.tileURL))
            if known == nil {
                response.headers.append(HTTPFields.Element(
                    name: .setCookie, value: "\(ReviewSessions.cookie)=\(session.id); Path=/; HttpOnly; SameSite=Strict"))
            }
            return response
        }
        router.get("/flight/:flight/data.json") { _, context in
            guard let flight = flight(context) else { return Self.problem(.notFound, "no such flight") }
            return Self.response(type: "application/json; charset=utf-8", flight.viewJSON)
        }
        router.get("/flight/:flight/marks") { _, context in
            guard let flight = flight(context) else { return Self.problem(.notFound, "no such flight") }
            do {
                return Self.json(MarksOut(marks: Array(try flight.store.marks().values).sorted { $0.sequence < $1.sequence },
                                          audit: try flight.store.audit()))
            } catch {
                return Self.problem(.internalServerError, "\(error)")
            }
        }
        router.post("/flight/:flight/marks") { request, context in
            guard let flight = flight(context) else { return Self.problem(.notFound, "no such flight") }
            let input: MarkIn
            do {
                input = try await request.decode(as: MarkIn.self, context: context)
            } catch {
                return Self.problem(.badRequest, "expected JSON {sequence, verdict: confirmed|rejected|unsure, note}")
            }
            guard let verdict = ReviewMark.Verdict(rawValue: input.verdict) else {
                return Self.problem(.badRequest, "verdict must be confirmed, rejected or unsure")
            }
            guard flight.view.detections.contains(where: { $0.sequence == input.sequence }) else {
                return Self.problem(.badRequest, "no detection \(input.sequence) in this flight")
            }
            guard input.note.count <= 4000, (input.reviewer ?? "").count <= 200 else {
                return Self.problem(.badRequest, "the note is limited to 4000 characters, the reviewer's name to 200")
            }
            let reviewer = input.reviewer.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
            let mark = ReviewMark(
                sequence: input.sequence, verdict: verdict, note: input.note, reviewer: reviewer ?? settings.reviewer, time: Self.now())
            do {
                return Self.json(try flight.store.mark(mark))
            } catch {
                return Self.problem(.internalServerError, "\(error)")
            }
        }
        router.post("/flight/:flight/rerun") { request, context in
            guard let flight = flight(context) else { return Self.problem(.notFound, "no such flight") }
            let input: Rerun.Settings
            do {
                input = try await request.decode(as: Rerun.Settings.self, context: context)
            } catch {
                return Self.problem(.badRequest, "expected JSON with hitOnSigma, hitOffSigma, minChannels, alertConfidence")
            }
            do {
                // A replay takes a while: not on the pool that answers the other requests.
                return Self.json(try await onOwnThread { try Rerun.run(flight, settings: input) })
            } catch {
                return Self.problem(.badRequest, "\(error)")
            }
        }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    struct MarkIn: Decodable {
        var sequence: Int
        var verdict: String
        var note: String
        var reviewer: String?
    }

    struct MarksOut: Encodable {
        var marks: [ReviewMark]
        var audit: [ReviewAuditEntry]
    }
}

/// The browser sessions of a review app: a random id in an HttpOnly, SameSite=Strict cookie,
/// and the CSRF token that the session's pages send back with each change.
public final class ReviewSessions: @unchecked Sendable {
    /// The session cookie's name.
    public static let cookie = "snuffel_session"
    /// The most sessions kept; the oldest are forgotten beyond that (their pages reload).
    static let limit = 10_000
    // Guards `tokens` and `order`: requests arrive on many threads.
    private let lock = NSLock()
    private var tokens: [String: String] = [:]
    private var order: [String] = []

    /// The CSRF token of a session, or nil for an unknown one.
    public func token(session: String) -> String? {
        lock.withLock { tokens[session] }
    }

    /// Opens a new session.
    /// - Returns: Its id (for the cookie) and its CSRF token (for the page).
    public func open() -> (id: String, token: String) {
        let id = ReviewSettings.makeToken(), token = ReviewSettings.makeToken()
        lock.withLock {
            tokens[id] = token
            order.append(id)
            if order.count > Self.limit { tokens[order.removeFirst()] = nil }
        }
        return (id, token)
    }
}

/// Lets a request in or refuses it: the access token when the app listens beyond this
/// machine, the Host header on loopback, and for state changes the Origin, the session's
/// CSRF token and a JSON body.
struct ReviewGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let settings: ReviewSettings
    let sessions: ReviewSessions
    static let cookie = "snuffel_token"
    // Both names are valid header names; the initialiser only refuses invalid ones.
    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token") ?? .authorization
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy") ?? .cacheControl

    /// Compares in time independent of where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var setCookie: String?
        if settings.isLoopback {
            // Against DNS rebinding: a page of another site whose name now points here
            // sends its own name as Host.
            let host = request.head.authority ?? ""
            let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.split(separator: ":").first ?? "")
            guard ["127.0.0.1", "localhost", "::1"].contains(name) || name.hasPrefix("127.") else {
                return ReviewServer.problem(.forbidden, "this app answers to 127.0.0.1 or localhost only")
            }
        } else {
            // Beyond loopback without a token nobody gets in (fail closed).
            guard let token = settings.token else {
                return ReviewServer.problem(.unauthorized, "this app listens beyond 127.0.0.1 and has no access token: restart it with one")
            }
            let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let query = request.uri.queryParameters.get("token")
            let cookie = request.cookies[Self.cookie]?.value
            guard let given = bearer ?? query ?? cookie, Self.same(given, token) else {
                return ReviewServer.problem(.unauthorized, "an access token is required: open the address snuffel review printed (it ends in ?token=...)")
            }
            if query != nil { setCookie = "\(Self.cookie)=\(token); Path=/; HttpOnly; SameSite=Strict" }
        }
        if request.method != .get && request.method != .head {
            guard request.method == .post else { return ReviewServer.problem(.methodNotAllowed, "only GET and POST") }
            guard let host = request.head.authority else { return ReviewServer.problem(.forbidden, "no Host header") }
            let origin = request.headers[.origin] ?? request.headers[.referer].map { referer in
                // scheme://host[:port] of the referring page.
                let parts = referer.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
                return parts.count >= 3 ? parts[0...2].joined(separator: "/") : referer
            }
            guard let origin, origin == "http://\(host)" else {
                return ReviewServer.problem(.forbidden, "cross-site request refused: the Origin is not this app")
            }
            guard let session = request.cookies[ReviewSessions.cookie]?.value, let expected = sessions.token(session: session),
                  let sent = request.headers[ReviewGuard.csrfHeader], Self.same(sent, expected) else {
                return ReviewServer.problem(.forbidden, "cross-site request refused: no session, or a missing or wrong X-CSRF-Token (reload the page)")
            }
            guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
                return ReviewServer.problem(.unsupportedMediaType, "send JSON (Content-Type: application/json)")
            }
        }
        var response = try await next(request, context)
        var csp = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        csp += settings.tileURL == nil ? "; img-src 'self' data:" : "; img-src 'self' data: https: http:"
        response.headers[.contentSecurityPolicy] = csp
        response.headers[ReviewGuard.referrerPolicy] = "no-referrer"
        if let setCookie { response.headers.append(HTTPFields.Element(name: .setCookie, value: setCookie)) }
        return response
    }
}
