import Foundation
import SnuffelGeo

/// One named set of points in a plot panel.
public struct PlotSeries: Sendable {
    public enum Style: Sendable, Equatable {
        /// Markers; the number picks the colour.
        case points(Int)
        /// A solid line.
        case line(Int)
        /// A dashed line.
        case dashed(Int)
    }

    public var name: String
    public var style: Style
    public var points: [(x: Double, y: Double)]

    public init(name: String, style: Style, points: [(Double, Double)]) {
        self.name = name
        self.style = style
        self.points = points.map { (x: $0.0, y: $0.1) }
    }
}

/// A plot with axes, a legend and, below it, a residual plot sharing its x axis.
public struct PlotPanel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLog: Bool
    public var yLog: Bool
    public var series: [PlotSeries]
    /// Drawn in a smaller plot under the main one, around a zero line; empty for none.
    public var residuals: [PlotSeries]
    public var residualLabel: String

    public init(
        title: String, xLabel: String, yLabel: String, xLog: Bool = false, yLog: Bool = false, series: [PlotSeries],
        residuals: [PlotSeries] = [], residualLabel: String = "residual"
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xLog = xLog
        self.yLog = yLog
        self.series = series
        self.residuals = residuals
        self.residualLabel = residualLabel
    }
}

/// A small SVG writer for calibration plots: panels stacked vertically, each with axes,
/// ticks, labels with units, a legend, and an optional residual plot.
///
/// Every series is a `<g class="series" data-name="NAME">` so that tools and tests can
/// find it; the document is well-formed XML (SVG 1.1).
public enum SVGPlot {
    static let width = 760.0
    static let left = 84.0, right = 200.0, top = 46.0
    static let mainHeight = 250.0, gap = 52.0, residualHeight = 100.0, bottom = 56.0
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    /// The SVG document of the panels under a title.
    public static func render(title: String, panels: [PlotPanel]) -> String {
        let panelHeight = top + mainHeight + gap + residualHeight + bottom
        let height = 40 + Double(max(panels.count, 1)) * panelHeight
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(width / 2))" y="26" text-anchor="middle" font-size="16" font-weight="bold">\(XMLText.escaped(title))</text>

            """
        for (i, panel) in panels.enumerated() {
            out += "<g class=\"panel\" transform=\"translate(0,\(n(40 + Double(i) * panelHeight)))\">\n"
            out += drawPanel(panel)
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    /// A value → pixel mapping along one axis.
    struct Axis {
        var low: Double, high: Double
        var log: Bool
        var from: Double, to: Double  // pixels for low and high

        func position(_ v: Double) -> Double? {
            guard v.isFinite, !log || v > 0 else { return nil }
            let (a, b, x) = log ? (log10(low), log10(high), log10(v)) : (low, high, v)
            return from + (x - a) / (b - a) * (to - from)
        }

        /// Tick values: 1-2-5 steps (linear) or decades, with 2 and 5 when few (log).
        var ticks: [Double] {
            if log {
                var out: [Double] = []
                let lo = Int(floor(log10(low))), hi = Int(ceil(log10(high)))
                let few = hi - lo <= 2
                for e in lo...max(lo, hi) {
                    for m in few ? [1.0, 2, 5] : [1.0] {
                        let v = m * pow(10, Double(e))
                        if v >= low * 0.999 && v <= high * 1.001 { out.append(v) }
                    }
                }
                return out
            }
            let span = high - low
            guard span > 0 else { return [low] }
            let raw = span / 6
            let magnitude = pow(10, floor(log10(raw)))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var out: [Double] = []
            var v = ceil(low / step) * step
            while v <= high + step * 1e-9 {
                out.append(abs(v) < step * 1e-9 ? 0 : v)
                v += step
            }
            return out
        }

        /// The data range padded by 5 % (linear) or a fraction of a decade (log).
        static func fitting(_ values: [Double], log: Bool, includeZero: Bool = false, from: Double, to: Double) -> Axis {
            var vs = values.filter { $0.isFinite && (!log || $0 > 0) }
            if includeZero && !log { vs.append(0) }
            var lo = vs.min() ?? (log ? 1 : 0), hi = vs.max() ?? (log ? 10 : 1)
            if log {
                if hi <= lo { hi = lo * 10 }
                lo /= 1.25
                hi *= 1.25
            } else {
                if hi <= lo { let d = max(abs(lo), 1) * 0.1; lo -= d; hi += d }
                let pad = (hi - lo) * 0.05
                lo -= pad
                hi += pad
            }
            return Axis(low: lo, high: hi, log: log, from: from, to: to)
        }
    }

    static func drawPanel(_ panel: PlotPanel) -> String {
        let plotRight = width - right
        let mainTop = top, mainBottom = top + mainHeight
        let resTop = mainBottom + gap, resBottom = resTop + residualHeight
        let allX = (panel.series + panel.residuals).flatMap { $0.points.map(\.x) }
        let x = Axis.fitting(allX, log: panel.xLog, includeZero: !panel.xLog, from: left, to: plotRight)
        let y = Axis.fitting(panel.series.flatMap { $0.points.map(\.y) }, log: panel.yLog, from: mainBottom, to: mainTop)
        var out = "<text x=\"\(n(left))\" y=\"\(n(top - 14))\" font-size=\"13\" font-weight=\"bold\">\(XMLText.escaped(panel.title))</text>\n"
        out += frame(x: x, y: y, top: mainTop, bottom: mainBottom, yLabel: panel.yLabel, xLabel: panel.residuals.isEmpty ? panel.xLabel : nil)
        out += "<g class=\"main\">\n"
        for s in panel.series { out += draw(s, x: x, y: y) }
        out += "</g>\n"
        // Legend.
        out += "<g class=\"legend\">\n"
        for (i, s) in panel.series.filter({ !$0.name.isEmpty }).enumerated() {
            let ly = mainTop + 14 + Double(i) * 20
            let lx = plotRight + 16
            switch s.style {
            case .points(let c): out += marker(lx + 12, ly - 4, color(c))
            case .line(let c): out += "<line x1=\"\(n(lx))\" y1=\"\(n(ly - 4))\" x2=\"\(n(lx + 24))\" y2=\"\(n(ly - 4))\" stroke=\"\(color(c))\" stroke-width=\"2\"/>\n"
            case .dashed(let c): out += "<line x1=\"\(n(lx))\" y1=\"\(n(ly - 4))\" x2=\"\(n(lx + 24))\" y2=\"\(n(ly - 4))\" stroke=\"\(color(c))\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            }
            out += "<text x=\"\(n(lx + 32))\" y=\"\(n(ly))\">\(XMLText.escaped(s.name))</text>\n"
        }
        out += "</g>\n"
        guard !panel.residuals.isEmpty else { return out }
        let r = Axis.fitting(panel.residuals.flatMap { $0.points.map(\.y) }, log: false, includeZero: true, from: resBottom, to: resTop)
        out += frame(x: x, y: r, top: resTop, bottom: resBottom, yLabel: panel.residualLabel, xLabel: panel.xLabel)
        if let zero = r.position(0) {
            out += "<line class=\"zero\" x1=\"\(n(left))\" y1=\"\(n(zero))\" x2=\"\(n(plotRight))\" y2=\"\(n(zero))\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>\n"
        }
        out += "<g class=\"residuals\">\n"
        for s in panel.residuals { out += draw(s, x: x, y: r) }
        return out + "</g>\n"
    }

    /// Axes box, ticks, tick labels, grid and axis labels.
    static func frame(x: Axis, y: Axis, top: Double, bottom: Double, yLabel: String, xLabel: String?) -> String {
        let plotRight = width - right
        var out = "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotRight - left))\" height=\"\(n(bottom - top))\" fill=\"none\" stroke=\"black\"/>\n"
        for t in x.ticks {
            guard let px = x.position(t) else { continue }
            out += "<line x1=\"\(n(px))\" y1=\"\(n(bottom))\" x2=\"\(n(px))\" y2=\"\(n(bottom + 5))\" stroke=\"black\"/>"
            out += "<line x1=\"\(n(px))\" y1=\"\(n(top))\" x2=\"\(n(px))\" y2=\"\(n(bottom))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(n(px))\" y=\"\(n(bottom + 17))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        for t in y.ticks {
            guard let py = y.position(t) else { continue }
            out += "<line x1=\"\(n(left - 5))\" y1=\"\(n(py))\" x2=\"\(n(left))\" y2=\"\(n(py))\" stroke=\"black\"/>"
            out += "<line x1=\"\(n(left))\" y1=\"\(n(py))\" x2=\"\(n(plotRight))\" y2=\"\(n(py))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(n(left - 8))\" y=\"\(n(py + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        let mid = (top + bottom) / 2
        out += "<text x=\"\(n(18))\" y=\"\(n(mid))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(n(mid)))\">\(XMLText.escaped(yLabel))</text>\n"
        if let xLabel {
            out += "<text x=\"\(n((left + plotRight) / 2))\" y=\"\(n(bottom + 36))\" text-anchor=\"middle\">\(XMLText.escaped(xLabel))</text>\n"
        }
        return out
    }

    static func draw(_ s: PlotSeries, x: Axis, y: Axis) -> String {
        var out = "<g class=\"series\" data-name=\"\(XMLText.escaped(s.name))\">\n"
        let pixels = s.points.compactMap { p -> (Double, Double)? in
            guard let px = x.position(p.x), let py = y.position(p.y) else { return nil }
            return (px, py)
        }
        switch s.style {
        case .points(let c):
            for (px, py) in pixels { out += marker(px, py, color(c)) }
        case .line(let c), .dashed(let c):
            if !pixels.isEmpty {
                let d = pixels.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(n($0.element.0)),\(n($0.element.1))" }.joined(separator: " ")
                let dash = s.style == .dashed(c) ? " stroke-dasharray=\"6 4\"" : ""
                out += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color(c))\" stroke-width=\"2\"\(dash)/>\n"
            }
        }
        return out + "</g>\n"
    }

    static func marker(_ x: Double, _ y: Double, _ color: String) -> String {
        "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"3.5\" fill=\"\(color)\" stroke=\"black\" stroke-width=\"0.5\"/>\n"
    }

    static func color(_ i: Int) -> String { palette[((i % palette.count) + palette.count) % palette.count] }

    static func n(_ v: Double) -> String { String(format: "%.1f", v) }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        return String(format: abs(v) >= 1e5 || abs(v) < 1e-3 ? "%.0e" : "%g", v)
    }
}
