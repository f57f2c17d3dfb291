import Foundation
import SnuffelGround
import SnuffelPeerTesting
import SnuffelReview
import Testing

@Suite("snuffel review over HTTP")
struct ReviewHTTPTests {
    @Test("serves the flight list, the page with map, plot and CSRF token, and the flight's data")
    func pages() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let review = try await RunningReview.start(logs: [try scratch.flight()])
        let index = try await RawHTTP.send(port: review.port, "/")
        #expect(index.status == 200 && index.body.contains(#"<a href="/flight/0">mdma-lab.ulg</a>: 7 detections, 4 alerts"#))
        #expect(index.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        let page = try await RawHTTP.send(port: review.port, "/flight/0")
        #expect(page.status == 200)
        let session = try #require(RunningReview.session(of: page))
        #expect(session.token.count == 32 && page.header("Set-Cookie")?.contains("HttpOnly; SameSite=Strict") == true)
        let again = try await RawHTTP.send(port: review.port, "/flight/0", headers: ["Cookie": session.cookie])
        #expect(again.header("Set-Cookie") == nil && again.body.contains(#"<meta name="csrf-token" content="\#(session.token)">"#),
                "the session keeps its token")
        #expect(page.body.contains(#"id="map""#) && page.body.contains(#"id="plot""#) && page.body.contains(#"id="detection-list""#))
        let data = try await RawHTTP.send(port: review.port, "/flight/0/data.json")
        let view = try JSONDecoder().decode(FlightView.self, from: Data(data.body.utf8))
        #expect(view.detections.count == 7 && view.logName == "mdma-lab.ulg" && !view.series.isEmpty)
        let script = try await RawHTTP.send(port: review.port, "/static/review.js")
        #expect(script.status == 200 && script.header("Content-Type")?.hasPrefix("text/javascript") == true)
        await review.stop()
    }

    @Test("changes need the app's own Origin, the session's cookie and CSRF token, and a JSON body; the Host must be the app's (DNS rebinding)")
    func crossSite() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let review = try await RunningReview.start(logs: [try scratch.flight()])
        let body = #"{"sequence":2,"verdict":"confirmed","note":"x"}"#
        let own = "http://127.0.0.1:\(review.port)"
        let (cookie, token) = try await review.session()
        let other = try await review.session()
        func post(_ headers: [String: String], cookie: String? = cookie) async throws -> Int {
            var all = headers
            if let cookie { all["Cookie"] = cookie }
            return try await RawHTTP.send(port: review.port, "/flight/0/marks", method: "POST", headers: all, body: body).status
        }
        #expect(try await post(["Origin": own, "X-CSRF-Token": token, "Content-Type": "application/json"], cookie: nil) == 403, "no session")
        #expect(try await post(["Origin": own, "X-CSRF-Token": other.token, "Content-Type": "application/json"]) == 403, "another session's token")
        #expect(try await post(["X-CSRF-Token": token, "Content-Type": "application/json"]) == 403, "no Origin")
        #expect(try await post(["Origin": "http://evil.example", "X-CSRF-Token": token, "Content-Type": "application/json"]) == 403)
        #expect(try await post(["Referer": "http://evil.example/page", "X-CSRF-Token": token, "Content-Type": "application/json"]) == 403)
        #expect(try await post(["Origin": own, "Content-Type": "application/json"]) == 403, "no CSRF token")
        #expect(try await post(["Origin": own, "X-CSRF-Token": String(token.reversed()), "Content-Type": "application/json"]) == 403)
        #expect(try await post(["Origin": own, "X-CSRF-Token": token, "Content-Type": "text/plain"]) == 415, "a form post")
        #expect(try review.server.flights[0].store.marks().isEmpty, "nothing refused was stored")
        #expect(try await post(["Origin": own, "X-CSRF-Token": token, "Content-Type": "application/json"]) == 200)
        #expect(try await post(["Referer": own + "/flight/0", "X-CSRF-Token": token, "Content-Type": "application/json"]) == 200)
        let rebound = try await RawHTTP.send(port: review.port, "/flight/0/data.json", headers: ["Host": "evil.example:\(review.port)"])
        #expect(rebound.status == 403 && !rebound.body.contains("detections"))
        await review.stop()
    }

    @Test("beyond loopback a token is required: refused without or with a wrong one; by ?token= (then a cookie) or Bearer")
    func token() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let token = ReviewSettings.makeToken()
        let review = try await RunningReview.start(logs: [try scratch.flight()], host: "0.0.0.0", token: token)
        for path in ["/", "/flight/0", "/flight/0/data.json", "/flight/0/marks", "/static/review.js"] {
            let refused = try await RawHTTP.send(port: review.port, path)
            #expect(refused.status == 401 && !refused.body.contains("mdma"), "\(path)")
        }
        #expect(try await RawHTTP.send(port: review.port, "/?token=\(String(token.reversed()))").status == 401)
        let first = try await RawHTTP.send(port: review.port, "/?token=\(token)")
        #expect(first.status == 200 && first.body.contains("mdma-lab.ulg"))
        let cookie = try #require(first.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let pair = String(cookie.split(separator: ";")[0])
        #expect(try await RawHTTP.send(port: review.port, "/flight/0", headers: ["Cookie": pair]).status == 200)
        #expect(try await RawHTTP.send(port: review.port, "/flight/0/data.json", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        let post = try await RawHTTP.send(port: review.port, "/flight/0/marks", method: "POST", headers: [
            "Origin": "http://127.0.0.1:\(review.port)", "X-CSRF-Token": "any", "Content-Type": "application/json",
        ], body: #"{"sequence":2,"verdict":"unsure","note":""}"#)
        #expect(post.status == 401, "a change needs the token as well")
        await review.stop()
        // Beyond loopback with no token at all, nobody gets in.
        let open = try await RunningReview.start(logs: [try scratch.flight()], host: "0.0.0.0", token: nil)
        #expect(try await RawHTTP.send(port: open.port, "/").status == 401)
        await open.stop()
    }

    @Test("no path outside the given logs can be read")
    func traversal() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let log = try scratch.flight()
        try "secret beside the log".write(toFile: URL(fileURLWithPath: log).deletingLastPathComponent().path + "/secret.txt", atomically: true, encoding: .utf8)
        let review = try await RunningReview.start(logs: [log])
        let paths = [
            "/../../../../etc/passwd", "/flight/0/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/flight/..%2f..%2f..%2fetc%2fpasswd", "/static/../../../../etc/passwd", "/static/..%2f..%2fPackage.swift",
            "/flight/1", "/flight/-1/data.json", "/flight/0/secret.txt", "/flight/0/..%2fsecret.txt", "/secret.txt",
            "/flight/0/mdma-lab.ulg", "/mdma-lab.ulg", "/flight/0/data.json/..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd",
        ]
        for path in paths {
            let reply = try await RawHTTP.send(port: review.port, path)
            #expect(reply.status == 404 || reply.status == 400, "\(path): \(reply.status)")
            #expect(!reply.body.contains("root:") && !reply.body.contains("secret beside") && !reply.body.contains("ULog"), "\(path)")
        }
        await review.stop()
    }

    @Test("marks persist across a restart with an audit row for each change; the log is never written")
    func marksPersist() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let log = try scratch.flight()
        let before = try Data(contentsOf: URL(fileURLWithPath: log))
        let first = try await RunningReview.start(logs: [log])
        #expect(try await first.post("/flight/0/marks", #"{"sequence":2,"verdict":"confirmed","note":"strong PMK"}"#).status == 200)
        let second = try await first.post("/flight/0/marks", #"{"sequence":2,"verdict":"rejected","note":"a farmer spraying","reviewer":"J. Jansen"}"#)
        #expect(second.status == 200 && second.body.contains(#""reviewer":"J. Jansen""#))
        #expect(try await first.post("/flight/0/marks", #"{"sequence":4,"verdict":"unsure","note":""}"#).status == 200)
        #expect(try await first.post("/flight/0/marks", #"{"sequence":4,"verdict":"maybe","note":""}"#).status == 400)
        #expect(try await first.post("/flight/0/marks", #"{"sequence":99,"verdict":"unsure","note":""}"#).status == 400)
        #expect(try await first.post("/flight/0/marks", "not json").status == 400)
        await first.stop()

        let again = try await RunningReview.start(logs: [log])
        let marks = try again.server.flights[0].store.marks()
        #expect(marks.count == 2)
        #expect(marks[2]?.verdict == .rejected && marks[2]?.note == "a farmer spraying" && marks[2]?.reviewer == "J. Jansen")
        #expect(marks[4]?.verdict == .unsure && marks[4]?.reviewer == "tester")
        let audit = try again.server.flights[0].store.audit(sequence: 2)
        #expect(audit.count == 2)
        #expect(audit.first?.oldVerdict == nil && audit.first?.newVerdict == "confirmed" && audit.first?.reviewer == "tester")
        #expect(audit.last?.oldVerdict == "confirmed" && audit.last?.newVerdict == "rejected")
        #expect(audit.last?.oldNote == "strong PMK" && audit.last?.newNote == "a farmer spraying")
        let listed = try await RawHTTP.send(port: again.port, "/flight/0/marks")
        #expect(listed.body.contains(#""newNote":"a farmer spraying""#))
        let page = try await RawHTTP.send(port: again.port, "/flight/0")
        #expect(page.body.contains(#""verdict":"rejected""#), "the page starts with the stored marks")
        await again.stop()
        #expect(try Data(contentsOf: URL(fileURLWithPath: log)) == before)
        #expect(FileManager.default.fileExists(atPath: log + ".review.sqlite"))
    }

    @Test("a store made for another file of the same name is refused")
    func storeOfAnotherLog() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let log = try scratch.flight()
        _ = try ReviewStore(log: log, logSHA256: String(repeating: "a", count: 64))
        #expect(throws: ReviewStoreError.self) { try ReviewStore(log: log, logSHA256: String(repeating: "b", count: 64)) }
        #expect(throws: ReviewSetupError.self) { try ReviewedFlight(path: log, options: ReplayOptions()) }
    }

    @Test("re-running with other settings says what changed; impossible settings are refused")
    func rerun() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let review = try await RunningReview.start(logs: [try scratch.flight()])
        let same = try await review.post("/flight/0/rerun", "{}")
        #expect(same.status == 200 && same.body.contains(#""before":7"#) && same.body.contains(#""after":7"#))
        #expect(!same.body.contains(#""status":"gone""#) && !same.body.contains(#""status":"new""#))
        let strict = try await review.post("/flight/0/rerun", #"{"hitOnSigma":12}"#)
        #expect(strict.status == 200 && strict.body.contains(#""status":"changed""#) && strict.body.contains("span "), "\(strict.body.prefix(300))")
        #expect(strict.body.contains(#""hitOnSigma":12"#))
        let alerts = try await review.post("/flight/0/rerun", #"{"alertConfidence":0.99}"#)
        #expect(Files.count("no longer an alert", in: alerts.body) == 4, "the four alerts")
        // The configuration's own checks still apply, and say why.
        let refused = try await review.post("/flight/0/rerun", #"{"hitOnSigma":200}"#)
        #expect(refused.status == 400 && refused.body.contains("single_channel_sigma"))
        #expect(try await review.post("/flight/0/rerun", #"{"hitOnSigma":2,"hitOffSigma":3}"#).status == 400)
        #expect(try await review.post("/flight/0/rerun", #"{"alertConfidence":7}"#).status == 400)
        await review.stop()
    }

    @Test("the command prints its address (with a token beyond loopback), serves, and stops on SIGTERM; refuses a missing log; explains itself")
    func command() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Files.snuffel)
        process.arguments = ["review", try scratch.flight(), "--port", "0", "--listen", "0.0.0.0", "--reviewer", "CLI"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The address line, or the end of the output: a process that never prints is ended
        // after a minute (which ends the read).
        let deadline = Task { try await Task.sleep(for: .seconds(60)); process.terminate() }
        let reader = out.fileHandleForReading
        let printed = try await onOwnThread { () -> String in
            var text = ""
            while !text.contains("Ctrl-C") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        deadline.cancel()
        let address = try #require(printed.split(separator: "\n").first { $0.hasPrefix("snuffel review: http://THIS-MACHINE:") }, "\(printed)")
        let token = try #require(address.split(separator: "?token=").last.map(String.init))
        let port = try #require(Int(address.split(separator: ":")[3].prefix { $0.isNumber }))
        #expect(try await RawHTTP.send(port: port, "/").status == 401)
        #expect(try await RawHTTP.send(port: port, "/?token=\(token)").status == 200)
        process.terminate()
        try await onOwnThread { process.waitUntilExit() }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)


        let missing = try Files.run(["review", "/nonexistent/flight.ulg"])
        #expect(missing.status != 0 && missing.stderr.contains("no such file: /nonexistent/flight.ulg"))
        let help = try Files.run(["review", "--help"])
        #expect(help.stdout.contains("Examples:") && help.stdout.contains("--listen") && help.stdout.contains("token"))
    }
}

@Suite("snuffel review in headless Chromium")
struct ReviewBrowserTests {
    @Test("Chromium draws the page: map with track and detections, plot with spans, the list with a row per detection and the stored mark")
    func drawn() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try #require(!Peer.skipped)
        let review = try await RunningReview.start(logs: [try scratch.flight()])
        #expect(try await review.post("/flight/0/marks", #"{"sequence":3,"verdict":"confirmed","note":"seen from the road"}"#).status == 200)
        let url = "http://127.0.0.1:\(review.port)/flight/0"
        let dom = try await onOwnThread { try Browser.dom(url) }
        #expect(dom.contains(#"data-ready="yes""#), "the script ran to its end")
        #expect(Files.count(#"<g class="detection" data-seq="#, in: dom) == 7)
        #expect(Files.count(#"class="track-run""#, in: dom) > 10)
        #expect(Files.count(#"<rect class="span" data-seq="#, in: dom) == 7 && Files.count(#"class="series""#, in: dom) >= 4)
        #expect(Files.count(#"<tr class="detection-row""#, in: dom) == 7)
        #expect(dom.contains(#"data-seq="3" data-class="mdma-synthesis""#) && dom.contains("confirmed (tester)") && dom.contains("seen from the road"))
        #expect(dom.contains(#"<option value="solvent">solvent</option>"#), "the class filter lists the classes")
        let shot = try scratch.directory() + "/review.png"
        let png = try await onOwnThread { try Browser.screenshot(url, to: shot, width: 1400, height: 1100) }
        #expect(Browser.pngSize(png)?.width == 1400)
        #expect(png.count > 60_000, "\(png.count) bytes")
        await review.stop()
    }

    @Test("a person marks a detection in the browser (Selenium); after a restart the page shows the mark; map, plot and list select together; filters hide rows")
    func markInBrowser() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try #require(!Peer.skipped)
        let log = try scratch.flight()
        let first = try await RunningReview.start(logs: [log], tileURL: "https://tiles.invalid/{z}/{x}/{y}.png")
        let script = Files.root + "/Tests/peers/review_page.py"
        let url = "http://127.0.0.1:\(first.port)/flight/0"
        let shot = try scratch.directory() + "/marked.png"
        let output = try await onOwnThread {
            try Peer.run(["/usr/bin/python3", script, url, "2", "rejected", "a farmer spraying", shot],
                         install: "apt-get install python3-selenium chromium chromium-driver").get().stdout
        }
        await first.stop()
        struct Seen: Decodable {
            var mark: String
            var audit: [String]
            var selected_rows: [String]
            var selected_spans: [String]
            var cursor_moved: Bool
            var rows_shown_for_solvent: Int
            var map_dots_hidden_for_solvent: Int
            var after_span_click_rows: [String]
            var map_moved: Bool
            var map_dot_selected: [String]
            var tiles: [String]
            var rows_shown_reviewed: [String]
            var rows_shown_not_reviewed: [String]
            var rows_shown_confidence: [String]

            enum CodingKeys: String, CodingKey {
                case mark, audit, selected_rows, selected_spans, cursor_moved, rows_shown_for_solvent, map_dots_hidden_for_solvent
                case after_span_click_rows, map_moved, map_dot_selected, tiles, rows_shown_reviewed, rows_shown_not_reviewed
                case rows_shown_confidence = "rows_shown_confidence_0.7"
            }
        }
        let seen = try JSONDecoder().decode(Seen.self, from: Data(output.utf8))
        #expect(seen.mark.contains("rejected") && seen.mark.contains("a farmer spraying"), "\(seen.mark)")
        #expect(seen.audit.count == 1 && seen.audit[0].contains("– → rejected"))
        #expect(seen.selected_rows == ["0"] && seen.selected_spans == ["0"] && seen.cursor_moved)
        #expect(seen.after_span_click_rows == ["5"] && seen.map_dot_selected == ["5"] && seen.map_moved)
        #expect(!seen.tiles.isEmpty && seen.tiles.count <= 64)
        #expect(seen.tiles.allSatisfy { $0.hasPrefix("https://tiles.invalid/1") && $0.hasSuffix(".png") && !$0.contains("{") }, "\(seen.tiles)")
        #expect(seen.rows_shown_reviewed == ["2"] && seen.rows_shown_not_reviewed == ["0", "1", "3", "4", "5", "6"])
        #expect(seen.rows_shown_confidence == ["2"], "only detection 2 has a confidence of 0.7 or more")
        #expect(seen.rows_shown_for_solvent == 2 && seen.map_dots_hidden_for_solvent == 5, "\(output)")
        #expect(Browser.pngSize(Array(try Data(contentsOf: URL(fileURLWithPath: shot))))?.width == 1400)

        let again = try await RunningReview.start(logs: [log])
        let dom = try await onOwnThread { try Browser.dom("http://127.0.0.1:\(again.port)/flight/0") }
        await again.stop()
        #expect(dom.contains(#"<tr class="detection-row" data-seq="2" data-class="mdma-synthesis""#))
        #expect(dom.contains("rejected (tester)") && dom.contains("a farmer spraying"))
        #expect(dom.contains(#"data-seq="2" data-class="mdma-synthesis" data-confidence="#) && dom.contains(#"data-reviewed="yes""#))
    }
}
