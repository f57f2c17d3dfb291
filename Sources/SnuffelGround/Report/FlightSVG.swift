import Foundation
import SnuffelGeo

/// Escapes text for HTML and SVG (element content and quoted attribute values): the XML
/// escaping of the KML and GPX writers, which HTML reads the same way.
public func escapeHTML(_ text: String) -> String { XMLText.escaped(text) }

/// A number for an SVG attribute: two decimals, no exponent, never NaN.
func svgNumber(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    return String(format: "%.2f", x)
}

/// The map and the plots of a flight as SVG, for the report (as they are) and for the
/// review page (whose script pans the map, moves the plot's cursor and marks the chosen
/// detection, by the ids, classes and `data-` attributes set here).
public enum FlightSVG {
    /// The colour of a signal (σ) on the track: grey-blue when quiet, through yellow to red
    /// at and above the hit threshold.
    static func signalColour(_ sigma: Double, hitOn: Double) -> String {
        let ramp = ["#7b8fa6", "#4daf4a", "#d9c200", "#ff7f00", "#e41a1c"]
        let f = max(0, sigma) / max(hitOn, 1e-9)
        let k = f < 0.25 ? 0 : f < 0.5 ? 1 : f < 0.75 ? 2 : f < 1 ? 3 : 4
        return ramp[k]
    }

    /// The colour of a class: red for a lab or dump, blue for a confounder, grey for unknown.
    static func classColour(confounder: Bool, signatureClass: String) -> String {
        signatureClass == "unknown" ? "#777777" : confounder ? "#377eb8" : "#d62728"
    }

    /// A length for a scale bar: 1, 2 or 5 times a power of ten, near a fifth of `span`.
    static func niceLength(_ span: Double) -> Double {
        let target = max(span / 5, 1e-3)
        let power = pow(10, (log10(target)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * power >= target { return m * power }
        return 10 * power
    }

    /// The map: the offline background (grid, scale bar, north arrow), the gas map, the
    /// track coloured by signal, the sources with their 50 % and 95 % areas and the detections.
    ///
    /// It is drawn in metres (x east, y south, so the viewBox is `east -north`), so a script
    /// can zoom and pan by changing the viewBox; strokes keep their width.
    /// - Parameters:
    ///   - view: The flight.
    ///   - width: The width in pixels; the height follows the area's shape (within limits).
    public static func map(_ view: FlightView, width: Double = 760) -> String {
        var east: [Double] = [], north: [Double] = []
        for stretch in view.track { for p in stretch { east.append(p.east); north.append(p.north) } }
        for d in view.detections { if let e = d.east, let n = d.north { east.append(e); north.append(n) } }
        // Each source's 50 % circle is framed; its 95 % circle, which may reach hundreds of
        // metres upwind when the flight says little about the distance along the wind, may
        // run off the map rather than shrink the track to a speck.
        for s in view.sources {
            east += [s.east - s.radius50, s.east + s.radius50]
            north += [s.north - s.radius50, s.north + s.radius50]
        }
        for c in view.gasMap { east += [c.east, c.east + c.size]; north += [c.north, c.north + c.size] }
        guard let minE = east.min(), let maxE = east.max(), let minN = north.min(), let maxN = north.max() else {
            return ##"<svg xmlns="http://www.w3.org/2000/svg" id="map" class="map empty" width="\##(Int(width))" height="120" viewBox="0 0 \##(Int(width)) 120"><text x="20" y="60" font-size="16">No positions in this log: nothing to draw on a map.</text></svg>"##
        }
        let margin = max(10, 0.06 * max(maxE - minE, maxN - minN))
        let x0 = minE - margin, x1 = maxE + margin, y0 = -(maxN + margin), y1 = -(minN - margin)
        var w = x1 - x0, h = y1 - y0
        // Keep the drawing between 1:2 and 2:1.
        if h < w / 2 { let add = w / 2 - h; h += add }
        if w < h / 2 { let add = h / 2 - w; w += add }
        let height = min(1.2 * width, max(0.5 * width, width * h / w))
        let unit = max(w, h) / 200  // marker sizes, in metres
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" id="map" class="map" width="\(Int(width))" height="\(Int(height))" \
            viewBox="\(svgNumber(x0)) \(svgNumber(y0)) \(svgNumber(w)) \(svgNumber(h))" preserveAspectRatio="xMidYMid meet" \
            data-origin-lat="\(view.originLatitude)" data-origin-lon="\(view.originLongitude)" data-unit="\(svgNumber(unit))" \
            role="img" aria-label="map of the flight">
            <rect class="background" x="\(svgNumber(x0 - w))" y="\(svgNumber(y0 - h))" width="\(svgNumber(3 * w))" height="\(svgNumber(3 * h))" fill="#f7f7f2"/>
            <g class="tiles"></g>

            """
        // Grid: every `step` metres, a little beyond the view so panning keeps it.
        let step = niceLength(max(w, h))
        svg += ##"<g class="grid" stroke="#d8d8cc" vector-effect="non-scaling-stroke">"##
        var gx = ((x0 - w) / step).rounded(.down) * step
        while gx <= x1 + w {
            svg += ##"<line x1="\##(svgNumber(gx))" y1="\##(svgNumber(y0 - h))" x2="\##(svgNumber(gx))" y2="\##(svgNumber(y1 + h))" vector-effect="non-scaling-stroke"/>"##
            gx += step
        }
        var gy = ((y0 - h) / step).rounded(.down) * step
        while gy <= y1 + h {
            svg += ##"<line x1="\##(svgNumber(x0 - w))" y1="\##(svgNumber(gy))" x2="\##(svgNumber(x1 + w))" y2="\##(svgNumber(gy))" vector-effect="non-scaling-stroke"/>"##
            gy += step
        }
        svg += "</g>\n"
        // Gas map: cells shaded by their mean signal.
        let top = max(view.gasMap.map(\.mean).max() ?? 1, 1e-9)
        svg += ##"<g class="gasmap layer">"##
        for c in view.gasMap {
            let a = max(0, min(1, c.mean / top)) * 0.55 * c.confidence
            svg += ##"<rect x="\##(svgNumber(c.east))" y="\##(svgNumber(-(c.north + c.size)))" width="\##(svgNumber(c.size))" height="\##(svgNumber(c.size))" fill="#ff6a00" fill-opacity="\##(String(format: "%.3f", a))"/>"##
        }
        svg += "</g>\n"
        // Track, in runs of one colour.
        svg += ##"<g class="track" fill="none" stroke-width="3" stroke-linecap="round" stroke-linejoin="round">"##
        for stretch in view.track {
            var k = 0
            while k + 1 < stretch.count {
                let colour = signalColour(stretch[k].sigma, hitOn: view.hitOnSigma)
                var points = [stretch[k]]
                var j = k + 1
                while j < stretch.count {
                    points.append(stretch[j])
                    if j + 1 >= stretch.count || signalColour(stretch[j].sigma, hitOn: view.hitOnSigma) != colour { break }
                    j += 1
                }
                let list = points.map { "\(svgNumber($0.east)),\(svgNumber(-$0.north))" }.joined(separator: " ")
                svg += ##"<polyline class="track-run" stroke="\##(colour)" points="\##(list)" vector-effect="non-scaling-stroke"/>"##
                k = j
            }
        }
        svg += "</g>\n"
        // Sources: 95 % area dashed, 50 % area filled, centre cross.
        svg += ##"<g class="sources">"##
        for (k, s) in view.sources.enumerated() {
            let colour = classColour(confounder: s.isConfounder, signatureClass: s.signatureClass)
            let label = escapeHTML("source \(k + 1): \(s.signatureClass), 50 % within \(Int(s.radius50.rounded())) m, 95 % within \(Int(s.radius95.rounded())) m")
            svg += """
                <g class="source" data-source="\(k)"><title>\(label)</title>\
                <circle class="area95" cx="\(svgNumber(s.east))" cy="\(svgNumber(-s.north))" r="\(svgNumber(s.radius95))" fill="\(colour)" fill-opacity="0.08" stroke="\(colour)" stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/>\
                <circle class="area50" cx="\(svgNumber(s.east))" cy="\(svgNumber(-s.north))" r="\(svgNumber(s.radius50))" fill="\(colour)" fill-opacity="0.22" stroke="\(colour)" vector-effect="non-scaling-stroke"/>\
                <path d="M\(svgNumber(s.east - 2 * unit)),\(svgNumber(-s.north))h\(svgNumber(4 * unit))M\(svgNumber(s.east)),\(svgNumber(-s.north - 2 * unit))v\(svgNumber(4 * unit))" stroke="\(colour)" stroke-width="2" vector-effect="non-scaling-stroke"/>\
                </g>
                """
        }
        svg += "</g>\n"
        // Detections: a dot each, numbered, with its 1σ uncertainty as a faint ring.
        svg += ##"<g class="detections">"##
        for d in view.detections {
            guard let e = d.east, let n = d.north else { continue }
            let colour = classColour(confounder: d.isConfounder, signatureClass: d.signatureClass)
            let label = escapeHTML("#\(d.sequence) \(d.signatureClass) (confidence \(String(format: "%.2f", d.confidence)))")
            svg += """
                <g class="detection" data-seq="\(d.sequence)"><title>\(label)</title>\
                <circle class="uncertainty" cx="\(svgNumber(e))" cy="\(svgNumber(-n))" r="\(svgNumber(max(d.uncertainty ?? 0, unit)))" fill="none" stroke="\(colour)" stroke-opacity="0.5" vector-effect="non-scaling-stroke"/>\
                <circle class="dot" cx="\(svgNumber(e))" cy="\(svgNumber(-n))" r="\(svgNumber(1.6 * unit))" fill="\(colour)" stroke="#ffffff" stroke-width="1.5" vector-effect="non-scaling-stroke"/>\
                <text x="\(svgNumber(e + 2 * unit))" y="\(svgNumber(-n - 2 * unit))" font-size="\(svgNumber(4.5 * unit))" fill="#222">\(d.sequence)</text>\
                </g>
                """
        }
        svg += "</g>\n"
        // North arrow and scale bar, in the view's corners.
        let bar = niceLength(w)
        let bx = x0 + 0.04 * w, by = y0 + h - 0.05 * h
        svg += """
            <g class="overlay" font-size="\(svgNumber(4 * unit))" fill="#222">\
            <g class="scalebar"><rect x="\(svgNumber(bx))" y="\(svgNumber(by - unit))" width="\(svgNumber(bar))" height="\(svgNumber(unit))" fill="#222"/>\
            <text x="\(svgNumber(bx))" y="\(svgNumber(by - 2 * unit))">\(bar >= 1000 ? "\(svgNumber(bar / 1000)) km" : "\(Int(bar)) m")</text></g>\
            <g class="north"><path d="M\(svgNumber(x0 + w - 8 * unit)),\(svgNumber(y0 + 14 * unit))l\(svgNumber(3 * unit)),\(svgNumber(-9 * unit))l\(svgNumber(3 * unit)),\(svgNumber(9 * unit))l\(svgNumber(-3 * unit)),\(svgNumber(-2.5 * unit))z" fill="#222"/>\
            <text x="\(svgNumber(x0 + w - 6.3 * unit))" y="\(svgNumber(y0 + 19 * unit))">N</text></g>\
            </g>
            </svg>
            """
        return svg
    }

    /// The processed signal of each gas channel (σ) with the hit thresholds, and the raw
    /// readings (each channel scaled to its own range), over the flight, with the
    /// detections' spans shaded.
    ///
    /// The plot area runs from `data-x0` to `data-x1` pixels for seconds `data-t0` to
    /// `data-t1`, so a script can place a cursor at a time.
    public static func plot(_ view: FlightView, width: Double = 760) -> String {
        let left = 48.0, right = 12.0, panel = 150.0, gap = 34.0, topPad = 20.0
        let height = topPad + 2 * panel + gap + 30
        let t1 = max(view.durationSeconds, Double(view.series.map(\.sigma.count).max() ?? 0), 1)
        let px = width - left - right
        func x(_ t: Double) -> Double { left + max(0, min(1, t / t1)) * px }
        let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" id="plot" class="plot" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            data-t0="0" data-t1="\(svgNumber(t1))" data-x0="\(svgNumber(left))" data-x1="\(svgNumber(left + px))" font-size="11" role="img" aria-label="signals over time">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>

            """
        guard !view.series.isEmpty else {
            return svg + ##"<text x="\##(Int(left))" y="60">No gas channel data recorded for the plot.</text></svg>"##
        }
        // Detection spans across both panels.
        svg += ##"<g class="spans">"##
        for d in view.detections {
            let colour = classColour(confounder: d.isConfounder, signatureClass: d.signatureClass)
            svg += ##"<rect class="span" data-seq="\##(d.sequence)" x="\##(svgNumber(x(d.onset)))" y="\##(svgNumber(topPad))" width="\##(svgNumber(max(2, x(d.end) - x(d.onset))))" height="\##(svgNumber(2 * panel + gap))" fill="\##(colour)" fill-opacity="0.15"><title>\##(escapeHTML("#\(d.sequence) \(d.signatureClass)"))</title></rect>"##
        }
        svg += "</g>\n"
        // Panel 1: σ on a square-root scale up to the largest value (at least 2 × hit_on).
        let topSigma = max(2 * view.hitOnSigma, view.series.flatMap(\.sigma).max() ?? 0)
        func ySigma(_ s: Double) -> Double { topPad + panel - (max(0, s) / topSigma).squareRoot() * panel }
        // Thin each line to about one point a pixel, keeping each bucket's largest value.
        let buckets = max(1, Int(px))
        func thinned(_ values: [Double?]) -> [(Double, Double)] {
            guard !values.isEmpty else { return [] }
            var out: [(Double, Double)] = []
            let per = max(1, values.count / buckets)
            var i = 0
            while i < values.count {
                let chunk = values[i..<min(values.count, i + per)].compactMap { $0 }
                if let m = chunk.max() { out.append((Double(i), m)) }
                i += per
            }
            return out
        }
        svg += ##"<g class="panel sigma"><text x="4" y="\##(svgNumber(topPad - 6))">processed signal (σ, square-root scale)</text>"##
        svg += ##"<rect x="\##(svgNumber(left))" y="\##(svgNumber(topPad))" width="\##(svgNumber(px))" height="\##(svgNumber(panel))" fill="none" stroke="#999"/>"##
        // The "hit on" label above its line, "hit off" below: the lines are close.
        for (name, level, shift) in [("hit on", view.hitOnSigma, -3.0), ("hit off", view.hitOffSigma, 10.0)] {
            svg += ##"<line class="threshold" x1="\##(svgNumber(left))" x2="\##(svgNumber(left + px))" y1="\##(svgNumber(ySigma(level)))" y2="\##(svgNumber(ySigma(level)))" stroke="#c00" stroke-dasharray="4 3"/><text x="\##(svgNumber(left + px - 60))" y="\##(svgNumber(ySigma(level) + shift))" fill="#c00">\##(name) \##(String(format: "%g", level)) σ</text>"##
        }
        for (k, s) in view.series.enumerated() {
            let points = thinned(s.sigma.map { Optional($0) }).map { "\(svgNumber(x($0.0))),\(svgNumber(ySigma($0.1)))" }
            svg += ##"<polyline class="series" data-channel="\##(escapeHTML(s.channel))" fill="none" stroke="\##(palette[k % palette.count])" stroke-width="1.2" points="\##(points.joined(separator: " "))"/>"##
        }
        svg += "</g>\n"
        // Panel 2: raw readings, each channel scaled to its own range.
        let y2 = topPad + panel + gap
        svg += ##"<g class="panel raw"><text x="4" y="\##(svgNumber(y2 - 6))">raw readings (each channel scaled to its own range)</text>"##
        svg += ##"<rect x="\##(svgNumber(left))" y="\##(svgNumber(y2))" width="\##(svgNumber(px))" height="\##(svgNumber(panel))" fill="none" stroke="#999"/>"##
        for (k, s) in view.series.enumerated() {
            let values = s.raw.compactMap { $0 }
            guard let lo = values.min(), let hi = values.max() else { continue }
            let range = max(hi - lo, 1e-12)
            let points = thinned(s.raw).map { "\(svgNumber(x($0.0))),\(svgNumber(y2 + panel - ($0.1 - lo) / range * (panel - 4)))" }
            svg += ##"<polyline class="series" data-channel="\##(escapeHTML(s.channel))" fill="none" stroke="\##(palette[k % palette.count])" stroke-width="1" points="\##(points.joined(separator: " "))"/>"##
        }
        svg += "</g>\n"
        // Time axis and legend.
        let axisY = y2 + panel + 14
        svg += ##"<g class="axis">"##
        let tick = niceLength(t1)
        var t = 0.0
        while t <= t1 {
            svg += ##"<line x1="\##(svgNumber(x(t)))" x2="\##(svgNumber(x(t)))" y1="\##(svgNumber(y2 + panel))" y2="\##(svgNumber(y2 + panel + 4))" stroke="#444"/><text x="\##(svgNumber(x(t) - 8))" y="\##(svgNumber(axisY))">\##(Int(t)) s</text>"##
            t += tick
        }
        svg += "</g>\n"
        svg += ##"<g class="legend">"##
        var lx = left
        for (k, s) in view.series.enumerated() {
            svg += ##"<rect x="\##(svgNumber(lx))" y="\##(svgNumber(axisY + 6))" width="10" height="4" fill="\##(palette[k % palette.count])"/><text x="\##(svgNumber(lx + 13))" y="\##(svgNumber(axisY + 12))">\##(escapeHTML(s.channel))</text>"##
            lx += 16 + 7 * Double(s.channel.count)
        }
        svg += "</g>\n"
        svg += ##"<line class="cursor" x1="-10" x2="-10" y1="\##(svgNumber(topPad))" y2="\##(svgNumber(y2 + panel))" stroke="#000" stroke-width="1.5"/>"##
        svg += "</svg>"
        return svg
    }
}
