import Foundation
import SnuffelGround
import SnuffelPeerTesting
import SnuffelReview
import Testing

@Suite("snuffel report")
struct ReportTests {
    @Test("the report of the bundled flight holds every detection, the sources, the SHA-256 (as sha256sum says), the settings, and no network reference")
    func bundledFlight() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let log = try scratch.flight()
        let out = try scratch.directory() + "/report.html"
        let ran = try Files.run(["report", log, "--out", out])
        #expect(ran.status == 0, "\(ran.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        let expected = try FlightView.replay(path: log, options: ReplayOptions()).view
        #expect(expected.detections.count == 7)
        #expect(Files.count(#"<tr class="detection" data-seq="#, in: html) == expected.detections.count)
        #expect(Files.count(#"<g class="detection" data-seq="#, in: html) == expected.detections.count, "a dot on the map for each")
        #expect(Files.count(#"<rect class="span" data-seq="#, in: html) == expected.detections.count, "a span on the plot for each")
        #expect(html.contains("mdma-synthesis") && html.contains("ALERT"))
        #expect(Files.count(#"<g class="source" data-source="#, in: html) == expected.sources.count && !expected.sources.isEmpty)
        #expect(html.contains(#"class="area50""#) && html.contains(#"class="area95""#))
        #expect(html.contains(#"class="track-run""#) && html.contains(#"<g class="scalebar">"#) && html.contains(#"<g class="north">"#))
        // The digest, checked by another implementation.
        if !Peer.skipped {
            let sum = try Peer.run(["sha256sum", log], install: "coreutils").get().stdout.prefix(64)
            #expect(html.contains(#"<code id="sha256">\#(sum)</code>"#))
        }
        #expect(html.contains("not signed"))
        #expect(html.contains("None taken: the log records no evidence samples."))
        #expect(html.contains("No detection has been reviewed"))
        #expect(html.contains("Settings and calibration used") && html.contains("[detection]"), "the payload configuration is quoted")
        // Self-contained: nothing is fetched (the SVG namespace is a name, not a fetch).
        let stripped = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!stripped.contains("http://") && !stripped.contains("https://"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="))
    }

    @Test("text from the log (class names, notes, configuration) is escaped")
    func escapes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let log = try scratch.flight()
        var (result, _, view) = try FlightView.replay(path: log, options: ReplayOptions())
        view.detections[0].signatureClass = "<script>alert(1)</script>"
        view.logName = "a&b<i>.ulg"
        result.configuration.payloadFile.text = "name = \"</pre><img src=x onerror=alert(2)>\""
        let mark = ReviewMark(sequence: view.detections[1].sequence, verdict: .rejected, note: "<b onclick=x>bad</b>", reviewer: "Eve \"<3\"", time: "2026-11-25T12:00:00Z")
        let html = FlightReport(
            view: view, integrity: LogIntegrity(sha256: String(repeating: "0", count: 64), byteCount: 1, signature: .notSigned),
            configuration: result.configuration, marks: [mark.sequence: mark], generated: "now"
        ).html()
        #expect(!html.contains("<script>alert(1)"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<img src=x") && html.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(!html.contains("<b onclick") && html.contains("&lt;b onclick=x&gt;bad&lt;/b&gt;"))
        #expect(html.contains("Eve &quot;&lt;3&quot;") && html.contains("a&amp;b&lt;i&gt;.ulg"))
        #expect(html.contains("<b>rejected</b>"))
    }

    @Test("the signature check says intact (with --key and without), signed with another key, truncated or ALTERED, and a store's marks appear")
    func signatureAndMarks() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dir = try scratch.directory()
        let key = dir + "/device.key", log = dir + "/flight.ulg"
        #expect(try Files.run(["keygen", "--out", key]).status == 0)
        let simulated = try Files.run(["simulate", "--scenario", "confounders-only", "--out", log, "--sign-key", key])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        func signature(_ path: String, key: String?) throws -> String {
            let out = path + ".html"
            let ran = try Files.run(["report", path, "--out", out] + (key.map { ["--key", $0] } ?? []))
            #expect(ran.status == 0, "\(ran.stderr)")
            let html = try String(contentsOfFile: out, encoding: .utf8)
            guard let start = html.range(of: #"<td id="signature">"#), let end = html[start.upperBound...].range(of: "</td>") else { return "" }
            return String(html[start.upperBound..<end.lowerBound])
        }
        let intact = try signature(log, key: key + ".pub")
        #expect(intact.contains(">intact<") && intact.contains("checked against the key given"), "\(intact)")
        let own = try signature(log, key: nil)
        #expect(own.contains(">intact<") && own.contains("the key the log records"), "\(own)")

        #expect(try Files.run(["keygen", "--out", dir + "/other.key"]).status == 0)
        let other = try signature(log, key: dir + "/other.key.pub")
        #expect(other.contains(">signed with another key<"), "\(other)")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: log)))
        let cut = dir + "/cut.ulg"
        try Data(bytes[..<(bytes.count * 2 / 3)]).write(to: URL(fileURLWithPath: cut))
        let truncated = try signature(cut, key: key + ".pub")
        #expect(truncated.contains(">truncated<") && truncated.contains("truncated at 20"), "\(truncated)")
        bytes[bytes.count / 2] ^= 0x01
        let altered = dir + "/altered.ulg"
        try Data(bytes).write(to: URL(fileURLWithPath: altered))
        let changed = try signature(altered, key: key + ".pub")
        #expect(changed.contains(">ALTERED<") && changed.contains("altered at byte offset"), "\(changed)")

        // A mark made in the review store shows in the next report.
        let digest = try #require(try Peer.run(["sha256sum", log], install: "coreutils").get().stdout.split(separator: " ").first)
        let store = try ReviewStore(log: log, logSHA256: String(digest))
        try store.mark(ReviewMark(sequence: 1, verdict: .unsure, note: "", reviewer: "A. Bakker", time: "2026-11-25T11:00:00Z"))
        try store.mark(ReviewMark(sequence: 1, verdict: .confirmed, note: "smelled it on site", reviewer: "J. Jansen", time: "2026-11-25T12:00:00Z"))
        let out = dir + "/marked.html"
        #expect(try Files.run(["report", log, "--out", out]).status == 0)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("<b>confirmed</b> by J. Jansen on 2026-11-25T12:00:00Z: smelled it on site"))
        #expect(html.contains("1 reviewed"))
        #expect(html.contains("<tr><td>2026-11-25T11:00:00Z</td><td>A. Bakker</td><td>1</td><td>– → unsure</td><td></td></tr>"))
        #expect(html.contains("<tr><td>2026-11-25T12:00:00Z</td><td>J. Jansen</td><td>1</td><td>unsure → confirmed</td><td> → smelled it on site</td></tr>"))
    }

    @Test("a missing or garbage log is refused with a message naming the file and the reason")
    func badInput() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dir = try scratch.directory()
        let missing = try Files.run(["report", dir + "/nope.ulg", "--out", dir + "/r.html"])
        #expect(missing.status != 0 && missing.stderr.contains("no such file: \(dir)/nope.ulg"))
        let garbage = dir + "/garbage.ulg"
        try Data([0x55, 0x4C, 0x6F, 0x67, 0x01, 0x12, 0x35, 0xFF, 0x00, 0x00, 0x13]).write(to: URL(fileURLWithPath: garbage))
        let refused = try Files.run(["report", garbage, "--out", dir + "/r.html"])
        #expect(refused.status != 0 && refused.stderr.contains(garbage), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.html"))
        let help = try Files.run(["report", "--help"])
        #expect(help.stdout.contains("Examples:") && help.stdout.contains("--pdf"))
    }

    @Test("--pdf without Chromium says how to install it")
    func pdfWithoutChromium() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dir = try scratch.directory()
        let ran = try Files.run(["report", try scratch.flight(), "--out", dir + "/r.html", "--pdf", dir + "/r.pdf"], path: dir)
        #expect(ran.status != 0)
        #expect(ran.stderr.contains("apt-get install chromium"), "\(ran.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/r.html"), "the HTML is written before")
    }
}

@Suite("snuffel report in headless Chromium")
struct ReportBrowserTests {
    @Test("Chromium draws the report: a large, non-blank screenshot; the map, plot and table in the DOM; --pdf prints it")
    func rendered() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try #require(!Peer.skipped)
        let dir = try scratch.directory()
        let out = dir + "/report.html", pdf = dir + "/report.pdf"
        let ran = try Files.run(["report", try scratch.flight(), "--out", out, "--pdf", pdf])
        #expect(ran.status == 0, "\(ran.stderr)")
        let url = URL(fileURLWithPath: out).absoluteString
        let png = try Browser.screenshot(url, to: dir + "/report.png")
        let size = Browser.pngSize(png)
        #expect(size?.width == 1200 && size?.height == 2000)
        // A blank 1200 × 2000 page compresses to a few kilobytes; a drawn map and plot do not.
        #expect(png.count > 60_000, "\(png.count) bytes")
        let dom = try Browser.dom(url)
        #expect(dom.contains(#"<svg xmlns="http://www.w3.org/2000/svg" id="map""#))
        #expect(Files.count(#"class="track-run""#, in: dom) > 10)
        #expect(dom.contains(#"id="plot""#) && Files.count(#"class="series""#, in: dom) >= 4)
        #expect(Files.count(#"<tr class="detection""#, in: dom) == 7)
        let head = Array(try Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5))
        #expect(head == Array("%PDF-".utf8))
        let pdfSize = (try FileManager.default.attributesOfItem(atPath: pdf)[.size] as? Int) ?? 0
        #expect(pdfSize > 20_000, "\(pdfSize) bytes")
    }
}
