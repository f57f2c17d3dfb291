import SnuffelCore

/// A text plot of each gas channel's noise-normalised signal over the run, one row per
/// channel, with the detections marked underneath.
struct Timeline {
    let channels: [ChannelSpec]
    /// Per channel, the largest σ seen in each second (keyed by whole seconds from the
    /// first sample of the run).
    var perSecond: [[Double]]
    var origin: UInt64?

    init(channels: [ChannelSpec]) {
        self.channels = channels
        perSecond = Array(repeating: [], count: channels.count)
    }

    mutating func record(_ sample: Sample, pipeline: Pipeline) {
        let c = Int(sample.channel)
        guard c < channels.count, channels[c].kind.isGas, let snap = pipeline.snapshot(channel: c),
              snap.time == sample.time else { return }
        if origin == nil { origin = sample.time }
        guard let origin, sample.time >= origin else { return }
        let second = Int((sample.time - origin) / 1_000_000)
        guard second < 48 * 3600 else { return }  // a plot, not a store: two days at most
        if perSecond[c].count <= second { perSecond[c].append(contentsOf: repeatElement(0, count: second + 1 - perSecond[c].count)) }
        perSecond[c][second] = max(perSecond[c][second], snap.sigma)
    }

    func render(from first: UInt64, to last: UInt64, detections: [Detection], width: Int) -> String {
        guard let origin, last > first else { return "" }
        let seconds = max(1, Double(last - first) / 1e6)
        let levels = Array(" ▁▂▃▄▅▆▇█")
        func column(_ t: UInt64) -> Int {
            min(width - 1, max(0, Int(Double(t &- origin) / 1e6 / seconds * Double(width))))
        }
        var lines = ["", "signal in noise units (σ), one column ≈ \(Int((seconds / Double(width)).rounded())) s; █ ≥ 20 σ"]
        for (c, spec) in channels.enumerated() where spec.kind.isGas {
            var cells = Array(repeating: 0.0, count: width)
            for (s, v) in perSecond[c].enumerated() {
                let col = min(width - 1, Int(Double(s) / seconds * Double(width)))
                cells[col] = max(cells[col], v)
            }
            let bar = cells.map { v -> Character in
                let level = Int((min(max(v, 0), 20) / 20 * 8).rounded(.up))
                return levels[min(8, level)]
            }
            lines.append(pad(spec.id, 8) + "│" + String(bar) + "│")
        }
        var marks = Array(repeating: Character(" "), count: width)
        for d in detections {
            let a = column(d.onset), b = max(column(d.onset), column(d.end))
            for i in a...b where marks[i] == " " { marks[i] = "─" }
            marks[a] = d.isAlert ? "!" : (d.isConfounder ? "c" : "?")
        }
        lines.append(pad("events", 8) + "│" + String(marks) + "│")
        lines.append(pad("", 8) + " ! alert   c confounder   ? other detection")
        return lines.joined(separator: "\n")
    }
}
