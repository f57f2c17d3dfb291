/// A compound's response on one kind of channel per ppm of the compound, with where
/// the number comes from.
public struct Response: Sendable, Equatable {
    /// Physical units of the channel per ppm of the compound (see ``ChannelKind``):
    /// ppb isobutylene-equivalent per ppm for `pid`; ppm reading per ppm for `ec_*`;
    /// linearised MOX response (`exp(e/β) - 1`) per ppm for MOX kinds.
    public var perPPM: Double
    /// Where the number comes from: a public table, a datasheet, or
    /// "illustrative — replace by lab calibration".
    public var source: String

    public init(perPPM: Double, source: String) {
        self.perPPM = perPPM
        self.source = source
    }
}

/// A chemical compound and how each kind of channel responds to it.
public struct Compound: Sendable, Equatable {
    /// Short id used by classes and reports, e.g. `pmk`, `ammonia`.
    public var id: String
    public var name: String
    /// Keyed by ``ChannelSpec/responseKey``: `sraw_voc`, `sraw_nox`, `mox_resistance`,
    /// `pid`, `ec_nh3`, `ec_h2s`, `ec_co`, `ec_no2`, ... A missing key means no response.
    public var responses: [String: Response]

    public init(id: String, name: String, responses: [String: Response]) {
        self.id = id
        self.name = name
        self.responses = responses
    }
}

/// A class of source built from compounds in typical proportions, e.g.
/// `mdma-synthesis` or the confounder `manure`.
public struct SignatureClass: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Confounders are classes too, but never raise an alert.
    public var isConfounder: Bool
    /// Compound ids with their nominal fractions of the mixture (normalised on use).
    public var components: [(compound: String, fraction: Double)]

    public init(id: String, name: String, isConfounder: Bool, components: [(compound: String, fraction: Double)]) {
        self.id = id
        self.name = name
        self.isConfounder = isConfounder
        self.components = components
    }

    public static func == (a: SignatureClass, b: SignatureClass) -> Bool {
        a.id == b.id && a.name == b.name && a.isConfounder == b.isConfounder
            && a.components.elementsEqual(b.components) { $0.compound == $1.compound && $0.fraction == $1.fraction }
    }
}

/// The chemical signature library: compounds and the classes built from them.
public struct SignatureLibrary: Sendable, Equatable {
    public var compounds: [Compound]
    public var classes: [SignatureClass]

    public init(compounds: [Compound], classes: [SignatureClass]) {
        self.compounds = compounds
        self.classes = classes
    }

    /// The index of a compound by id.
    public func compoundIndex(_ id: String) -> Int? {
        compounds.firstIndex { $0.id == id }
    }

    /// Checks that ids are unique, that classes name known compounds with positive
    /// fractions, and that responses are finite.
    /// - Returns: `nil` when valid, else a key path (e.g. `classes.manure.components`)
    ///   and the reason.
    public func validationError() -> (key: String, reason: String)? {
        var seen = Set<String>()
        for c in compounds {
            if !seen.insert(c.id).inserted { return ("compounds.\(c.id)", "duplicate compound id") }
            for (key, r) in c.responses where !r.perPPM.isFinite {
                return ("compounds.\(c.id).\(key)", "response must be finite, got \(r.perPPM)")
            }
        }
        var seenClasses = Set<String>()
        for k in classes {
            if !seenClasses.insert(k.id).inserted { return ("classes.\(k.id)", "duplicate class id") }
            if k.components.isEmpty { return ("classes.\(k.id).components", "a class needs at least one compound") }
            for (compound, fraction) in k.components {
                if !seen.contains(compound) {
                    return ("classes.\(k.id).components.\(compound)", "unknown compound '\(compound)'")
                }
                if !(fraction.isFinite && fraction > 0) {
                    return ("classes.\(k.id).components.\(compound)", "fraction must be positive, got \(fraction)")
                }
            }
        }
        return nil
    }
}
