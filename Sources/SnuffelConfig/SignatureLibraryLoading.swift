import SnuffelCore
import TOMLKit

extension SignatureLibrary {
    /// Loads the chemical signature library from a TOML file and validates it.
    ///
    /// The file holds `[[compounds]]` and `[[classes]]` entries:
    ///
    /// ```toml
    /// [[compounds]]
    /// id = "acetone"
    /// name = "Acetone"
    /// responses.pid = { per_ppm = 909, source = "RAE TN-106: CF 1.1 (10.6 eV)" }
    /// responses.sraw_voc = { per_ppm = 4.0, source = "illustrative — replace by lab calibration" }
    ///
    /// [[classes]]
    /// id = "solvent"
    /// name = "Solvent use"
    /// confounder = true
    /// components = { acetone = 0.35, isopropanol = 0.30 }
    /// ```
    ///
    /// Response keys are `sraw_voc`, `sraw_nox`, `mox_resistance`, `pid` and `ec_<gas>`;
    /// each response states `per_ppm` (see ``Response/perPPM``) and a non-empty `source`.
    /// Every class states `confounder`. Components are listed by compound id, in id order.
    /// - Parameter path: The library file.
    /// - Throws: ``ConfigurationError`` naming the file, the key and the reason.
    public static func load(path: String) throws(ConfigurationError) -> SignatureLibrary {
        let text = try ConfigurationFile.read(path: path)
        return try parse(text: text, path: path)
    }

    /// Parses and validates the text of a signature library file (see ``load(path:)``).
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file name used in error messages.
    public static func parse(text: String, path: String) throws(ConfigurationError) -> SignatureLibrary {
        let root = try TableReader(ConfigurationFile.parse(text, file: path), file: path, path: "", allowed: ["compounds", "classes"])
        guard let compoundTables = try root.arrayOfTables("compounds") else {
            throw root.missing("compounds", "the compounds of the library, as [[compounds]] tables")
        }
        var compounds: [Compound] = []
        var positions: [String: Int] = [:]
        for (index, table) in compoundTables.enumerated() {
            let compound = try readCompound(table, index: index, file: path, seen: positions)
            positions[compound.id] = index
            compounds.append(compound)
        }
        let classTables = try root.arrayOfTables("classes") ?? []
        var classes: [SignatureClass] = []
        var classPositions: [String: Int] = [:]
        for (index, table) in classTables.enumerated() {
            let signatureClass = try readClass(table, index: index, file: path, compounds: compounds, seen: classPositions)
            classPositions[signatureClass.id] = index
            classes.append(signatureClass)
        }
        let library = SignatureLibrary(compounds: compounds, classes: classes)
        if let (key, reason) = library.validationError() {
            throw ConfigurationError(file: path, key: key, reason: reason)
        }
        return library
    }

    /// The response keys a compound may list, apart from `ec_<gas>`.
    static let responseKinds = ["sraw_voc", "sraw_nox", "mox_resistance", "pid"]

    private static func readID(_ table: TOMLTable, section: String, index: Int, file: String, seen: [String: Int]) throws(ConfigurationError) -> String {
        let position = TableReader.segment(section) + "[\(index)]"
        let reader = try TableReader(table, file: file, path: position, allowed: table.keys)
        let id = try reader.requiredString("id", "a short unique id")
        guard Identifier.isValid(id) else {
            throw reader.error("id", "invalid id \(TableReader.quoted(id)): an id is \(Identifier.rule)")
        }
        if let other = seen[id] {
            throw reader.error("id", "duplicate \(section == "classes" ? "class" : "compound") id '\(id)' (\(section)[\(other)] has it too)")
        }
        return id
    }

    private static func readCompound(_ table: TOMLTable, index: Int, file: String, seen: [String: Int]) throws(ConfigurationError) -> Compound {
        let id = try readID(table, section: "compounds", index: index, file: file, seen: seen)
        let reader = try TableReader(table, file: file, path: "compounds.\(id)", allowed: ["id", "name", "responses"])
        let name = try reader.string("name") ?? id
        guard let responseTable = try reader.openTable("responses") else {
            throw reader.missing("responses", "the compound's response per ppm on each kind of channel, e.g. responses.pid = { per_ppm = 909, source = \"...\" }")
        }
        var responses: [String: Response] = [:]
        for key in responseTable.keys {
            let keyPath = reader.key("responses") + "." + TableReader.segment(key)
            guard isResponseKey(key) else {
                var reason = "unknown response key \(TableReader.quoted(key))"
                if let suggestion = TableReader.closest(to: key, among: responseKinds + ["ec_nh3", "ec_h2s", "ec_co", "ec_no2"]) {
                    reason += "; did you mean '\(suggestion)'?"
                }
                reason += " (expected sraw_voc, sraw_nox, mox_resistance, pid, or ec_<gas> such as ec_nh3, ec_h2s, ec_co, ec_no2)"
                throw ConfigurationError(file: file, key: keyPath, reason: reason)
            }
            guard let value = responseTable[key] else { continue }
            guard let entry = value.table else {
                throw ConfigurationError(
                    file: file, key: keyPath,
                    reason: "expected a table { per_ppm = ..., source = \"...\" }, got \(TableReader.describe(value))")
            }
            let response = try TableReader(entry, file: file, path: keyPath, allowed: ["per_ppm", "source"])
            let perPPM = try response.requiredDouble("per_ppm", "the response per ppm of the compound")
            let source = try response.requiredString("source", "where the number comes from, or \"illustrative — replace by lab calibration\"")
            if source.allSatisfy(\.isWhitespace) {
                throw response.error("source", "must not be empty: say where the number comes from, or mark it \"illustrative — replace by lab calibration\"")
            }
            responses[key] = Response(perPPM: perPPM, source: source)
        }
        return Compound(id: id, name: name, responses: responses)
    }

    private static func readClass(
        _ table: TOMLTable, index: Int, file: String, compounds: [Compound], seen: [String: Int]
    ) throws(ConfigurationError) -> SignatureClass {
        let id = try readID(table, section: "classes", index: index, file: file, seen: seen)
        let reader = try TableReader(table, file: file, path: "classes.\(id)", allowed: ["id", "name", "confounder", "components"])
        let name = try reader.string("name") ?? id
        let confounder = try reader.requiredBool(
            "confounder", "true for sources that must never raise an alert (manure, exhaust, ...), false otherwise")
        guard let componentTable = try reader.openTable("components") else {
            throw reader.missing("components", "compound ids with their nominal mole fractions, e.g. components = { ammonia = 0.8, h2s = 0.05 }")
        }
        let known = compounds.map(\.id)
        var components: [(compound: String, fraction: Double)] = []
        let componentReader = try TableReader(componentTable, file: file, path: reader.key("components"), allowed: componentTable.keys)
        for compound in componentTable.keys {
            guard known.contains(compound) else {
                var reason = "unknown compound \(TableReader.quoted(compound))"
                if let suggestion = TableReader.closest(to: compound, among: known) { reason += "; did you mean '\(suggestion)'?" }
                reason += " (a class is built from the compounds listed under [[compounds]])"
                throw componentReader.error(compound, reason)
            }
            guard let fraction = try componentReader.double(compound) else { continue }
            guard fraction > 0 else { throw componentReader.error(compound, "a mole fraction must be positive, got \(fraction)") }
            components.append((compound, fraction))
        }
        if components.isEmpty { throw reader.error("components", "a class needs at least one compound") }
        return SignatureClass(id: id, name: name, isConfounder: confounder, components: components)
    }

    /// Whether `key` names a kind of channel response: a MOX or PID kind, or `ec_<gas>`.
    static func isResponseKey(_ key: String) -> Bool {
        if responseKinds.contains(key) { return true }
        guard key.hasPrefix("ec_") else { return false }
        return GasName.isValid(String(key.dropFirst(3)))
    }
}

/// Target gases of electrochemical cells: `nh3`, `h2s`, `co`, `no2`, ...
enum GasName {
    static func isValid(_ gas: String) -> Bool {
        !gas.isEmpty && gas.utf8.count <= 16 && gas.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
    }
}
