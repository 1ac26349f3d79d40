/// A `pattern` of a JSON Schema: the subset of ECMA-262 regular expressions the catalog needs,
/// matched on Unicode scalars with a small backtracking matcher. Supported: literals and
/// escapes, `.`, classes `[a-z0-9_]` and `[^…]`, `\d \D \w \W \s \S`, groups `(…)` and `(?:…)`,
/// alternation `|`, greedy `* + ? {n} {n,} {n,m}`, anchors `^ $`. Anything else (lookaround,
/// back-references, lazy quantifiers, `\b`, flags) is refused when the schema loads, so that
/// no pattern is silently misread. Like JSON Schema, a pattern matches anywhere in the string
/// unless anchored.
public struct SchemaPattern: Sendable {
    public let source: String
    private let alternatives: [[Node]]
    /// The pattern as a run of classes, when it is one that needs no backtracking (see `Run`).
    private let run: [Run]?

    indirect enum Node: Sendable {
        case scalar(ScalarClass)
        case start
        case end
        case group([[Node]])
        case repetition(Node, min: Int, max: Int?)
    }

    /// A set of scalars: ranges, possibly negated.
    struct ScalarClass: Sendable {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) } != negated
        }

        static let digit = ScalarClass(ranges: [0x30...0x39], negated: false)
        static let word = ScalarClass(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A], negated: false)
        static let space = ScalarClass(ranges: [0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
                                                0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF],
                                       negated: false)
        /// `.`: anything but a line terminator.
        static let dot = ScalarClass(ranges: [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029], negated: true)
    }

    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(_ source: String) throws(SyntaxError) {
        self.source = source
        var parser = Parser(scalars: Array(source.unicodeScalars))
        alternatives = try parser.parseAlternatives()
        guard parser.index == parser.scalars.count else { throw parser.error("unbalanced ')'") }
        run = SchemaPattern.run(alternatives)
    }

    /// Whether the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        if let run { return SchemaPattern.matches(run, text) }
        return matchesByBacktracking(text)
    }

    /// Whether the pattern matches, found by trying every way (tests compare the runs with it).
    func matchesByBacktracking(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        // A pattern anchored at the start in every alternative can only match at 0.
        let anchored = alternatives.allSatisfy { if case .start? = $0.first { return true } else { return false } }
        for start in 0...(anchored ? 0 : scalars.count) {
            if alternatives.contains(where: { SchemaPattern.match($0[...], scalars, start, { _ in true }) }) { return true }
        }
        return false
    }

    /// One step of a pattern `^c1{m1,M1}c2{m2,M2}…$`: a class and how many times in a row.
    /// Most of the catalog's patterns are such runs (`^[A-Z]{2}$`, `^[a-z][a-z0-9_]*$`). When
    /// no class that may repeat a variable number of times shares a scalar with any class that
    /// can come right after it (the next one, and those after while they may be absent),
    /// taking as many as possible is the only way to match: the text is read once, with no
    /// backtracking and no copy of its scalars.
    private struct Run {
        var set: ScalarClass
        var min: Int
        var max: Int?
    }

    private static func run(_ alternatives: [[Node]]) -> [Run]? {
        guard alternatives.count == 1, let nodes = alternatives.first, nodes.count >= 2,
              case .start = nodes.first!, case .end = nodes.last! else { return nil }
        var steps: [Run] = []
        for node in nodes.dropFirst().dropLast() {
            switch node {
            case .scalar(let set): steps.append(Run(set: set, min: 1, max: 1))
            case .repetition(.scalar(let set), let min, let max): steps.append(Run(set: set, min: min, max: max))
            default: return nil
            }
        }
        for (index, step) in steps.enumerated() where step.max != step.min {
            for next in steps[(index + 1)...] {
                guard !step.set.negated, !next.set.negated,
                      !step.set.ranges.contains(where: { a in next.set.ranges.contains { b in a.overlaps(b) } }) else { return nil }
                if next.min > 0 { break }
            }
        }
        return steps
    }

    private static func matches(_ run: [Run], _ text: String) -> Bool {
        var scalars = text.unicodeScalars.makeIterator()
        var pending = scalars.next()
        for step in run {
            var count = 0
            while step.max.map({ count < $0 }) ?? true, let scalar = pending, step.set.contains(scalar) {
                count += 1
                pending = scalars.next()
            }
            guard count >= step.min else { return false }
        }
        return pending == nil
    }

    /// Matches `nodes` at `position`, then hands the end position to `next` (which decides
    /// whether the rest matches): backtracking by continuation.
    private static func match(_ nodes: ArraySlice<Node>, _ text: [Unicode.Scalar], _ position: Int, _ next: (Int) -> Bool) -> Bool {
        guard let node = nodes.first else { return next(position) }
        let rest = nodes.dropFirst()
        switch node {
        case .scalar(let set):
            guard position < text.count, set.contains(text[position]) else { return false }
            return match(rest, text, position + 1, next)
        case .start:
            return position == 0 && match(rest, text, position, next)
        case .end:
            return position == text.count && match(rest, text, position, next)
        case .group(let alternatives):
            return alternatives.contains { match($0[...], text, position) { match(rest, text, $0, next) } }
        case .repetition(let inner, let min, let max):
            return repeatMatch(inner, min: min, max: max, count: 0, text, position) { match(rest, text, $0, next) }
        }
    }

    private static func repeatMatch(_ node: Node, min: Int, max: Int?, count: Int, _ text: [Unicode.Scalar], _ position: Int,
                                    _ next: (Int) -> Bool) -> Bool {
        // Greedy: one more first, then stop here once the minimum is met. An empty match ends
        // the loop so `(a*)*` cannot spin.
        if max.map({ count < $0 }) ?? true,
           match([node][...], text, position, { end in
               end != position && repeatMatch(node, min: min, max: max, count: count + 1, text, end, next)
           }) {
            return true
        }
        return count >= min && next(position)
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        func error(_ message: String) -> SyntaxError { SyntaxError(message: "pattern: \(message) at character \(index + 1)") }

        mutating func parseAlternatives() throws(SyntaxError) -> [[Node]] {
            var alternatives: [[Node]] = [[]]
            while index < scalars.count {
                let c = scalars[index]
                if c == ")" { break }
                if c == "|" {
                    index += 1
                    alternatives.append([])
                    continue
                }
                let atom = try parseAtom()
                alternatives[alternatives.count - 1].append(try parseQuantifier(atom))
            }
            return alternatives
        }

        mutating func parseAtom() throws(SyntaxError) -> Node {
            let c = scalars[index]
            index += 1
            switch c {
            case "^": return .start
            case "$": return .end
            case ".": return .scalar(.dot)
            case "(":
                if index < scalars.count, scalars[index] == "?" {
                    guard index + 1 < scalars.count, scalars[index + 1] == ":" else { throw error("lookaround and named groups are not supported") }
                    index += 2
                }
                let inner = try parseAlternatives()
                guard index < scalars.count, scalars[index] == ")" else { throw error("missing ')'") }
                index += 1
                return .group(inner)
            case "[": return .scalar(try parseClass())
            case "\\": return .scalar(try parseEscape(inClass: false))
            case "*", "+", "?", "{": throw error("nothing to repeat")
            case "]", "}": throw error("unescaped '\(c)'")
            default: return .scalar(ScalarClass(ranges: [c.value...c.value], negated: false))
            }
        }

        mutating func parseQuantifier(_ atom: Node) throws(SyntaxError) -> Node {
            guard index < scalars.count else { return atom }
            var min = 0, max: Int?
            switch scalars[index] {
            case "*": index += 1
            case "+": index += 1; min = 1
            case "?": index += 1; max = 1
            case "{":
                index += 1
                guard let low = parseNumber() else { throw error("'{' needs a count") }
                min = low
                max = low
                if index < scalars.count, scalars[index] == "," {
                    index += 1
                    max = parseNumber()
                }
                guard index < scalars.count, scalars[index] == "}" else { throw error("missing '}'") }
                index += 1
                if let max, max < min { throw error("{n,m} with m < n") }
            default: return atom
            }
            if case .start = atom { throw error("nothing to repeat") }
            if case .end = atom { throw error("nothing to repeat") }
            if index < scalars.count, scalars[index] == "?" { throw error("lazy quantifiers are not supported") }
            if index < scalars.count, "*+?{".unicodeScalars.contains(scalars[index]) { throw error("nothing to repeat") }
            return .repetition(atom, min: min, max: max)
        }

        mutating func parseNumber() -> Int? {
            var value: Int?
            while index < scalars.count, let digit = Int(String(scalars[index])), scalars[index].isASCII {
                value = (value ?? 0) * 10 + digit
                index += 1
            }
            return value
        }

        mutating func parseClass() throws(SyntaxError) -> ScalarClass {
            var set = ScalarClass(ranges: [], negated: false)
            if index < scalars.count, scalars[index] == "^" {
                set.negated = true
                index += 1
            }
            while index < scalars.count, scalars[index] != "]" {
                let low: ScalarClass
                if scalars[index] == "\\" {
                    index += 1
                    low = try parseEscape(inClass: true)
                } else {
                    low = ScalarClass(ranges: [scalars[index].value...scalars[index].value], negated: false)
                    index += 1
                }
                if index + 1 < scalars.count, scalars[index] == "-", scalars[index + 1] != "]",
                   low.ranges.count == 1, low.ranges[0].count == 1, !low.negated {
                    index += 1
                    var high = scalars[index].value
                    if scalars[index] == "\\" {
                        index += 1
                        let escaped = try parseEscape(inClass: true)
                        guard escaped.ranges.count == 1, escaped.ranges[0].count == 1 else { throw error("a class cannot be a range end") }
                        high = escaped.ranges[0].lowerBound
                    } else {
                        index += 1
                    }
                    guard low.ranges[0].lowerBound <= high else { throw error("range out of order") }
                    set.ranges.append(low.ranges[0].lowerBound...high)
                } else if low.negated {
                    throw error("negated escapes (\\D, \\W, \\S) inside a class are not supported")
                } else {
                    set.ranges.append(contentsOf: low.ranges)
                }
            }
            guard index < scalars.count else { throw error("missing ']'") }
            index += 1
            return set
        }

        mutating func parseEscape(inClass: Bool) throws(SyntaxError) -> ScalarClass {
            guard index < scalars.count else { throw error("pattern ends with '\\'") }
            let c = scalars[index]
            index += 1
            func single(_ value: UInt32) -> ScalarClass { ScalarClass(ranges: [value...value], negated: false) }
            switch c {
            case "d": return .digit
            case "D": return ScalarClass(ranges: ScalarClass.digit.ranges, negated: true)
            case "w": return .word
            case "W": return ScalarClass(ranges: ScalarClass.word.ranges, negated: true)
            case "s": return .space
            case "S": return ScalarClass(ranges: ScalarClass.space.ranges, negated: true)
            case "t": return single(0x09)
            case "n": return single(0x0A)
            case "r": return single(0x0D)
            case "f": return single(0x0C)
            case "v": return single(0x0B)
            case "u":
                guard index + 4 <= scalars.count, let value = UInt32(String(String.UnicodeScalarView(scalars[index..<index + 4])), radix: 16)
                else { throw error("\\u needs four hexadecimal digits") }
                index += 4
                return single(value)
            case "b" where inClass: return single(0x08)
            default:
                // Escaped punctuation stands for itself; escaped letters and digits are
                // features (\b, \1, \p…) this matcher does not have.
                guard !(c.properties.isAlphabetic || ("0"..."9").contains(c)) else { throw error("'\\\(c)' is not supported") }
                return single(c.value)
            }
        }
    }
}
