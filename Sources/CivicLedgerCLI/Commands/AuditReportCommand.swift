import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerProjections
import LedgerValues

struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Replay the log to the zone as of a date, as known at a time, on a verified chain.",
        discussion: """
            Events count when effective on or before --as-of and recorded at or before
            --known-at. A correction or retraction counts at the time of the event it fixes,
            from the moment it was recorded. The report lists what later records changed, and,
            for an audit of the present, compares the live projections with the replay.

            Examples:
              civic-ledger audit --as-of 2021-12-31 --known-at 2022-01-31
              civic-ledger audit --as-of 2021-12-31 --json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The date of the world to show: YYYY-MM-DD (through that day) or a date-time with offset.", valueName: "date"))
    var asOf: String
    @OptionGroup var point: AuditPointOptions
    @Flag(help: "Print the report as one JSON object (docs/AUDIT.md).") var json = false
    @Flag(help: "Fold every entity from the log, ignoring the audit snapshot (same answer, slower).") var fullReplay = false
    @Option(help: ArgumentHelp("Also write the report as a self-contained HTML page with a timeline chart.", valueName: "file"))
    var html: String?

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let auditor = Auditor(ledger)
            let audit = try auditor.audit(Auditor.Point(asOf: try AuditPointOptions.endInstant(asOf, option: "--as-of"),
                                                        knownAtSeq: try point.knownAtSeq(auditor)),
                                        useSnapshot: !fullReplay)
            let knownAt = min(audit.point.knownAtSeq, audit.headSeq)
            // The chain the answer rests on, verified up to the known-at point and beyond.
            let verification = try ledger.verify()
            let drift = try projectionDrift(ledger, audit)
            if let html {
                let states = audit.states
                let rows = IndicatorsCommand.rows(targets: states.filter { $0.key.hasPrefix("target/") }.map(\.value),
                                                  indicators: states.filter { $0.key.hasPrefix("indicator/") }.map(\.value))
                let page = AuditPage(title: "Audit of the zone as of \(asOf), as known at \(point.knownAt ?? "now")",
                                     asOfDate: String(asOf.prefix(10)), audit: audit, verification: verification, indicatorRows: rows)
                try OutputFile.create(html, Array(page.render().utf8), mode: 0o644)
            }
            if json {
                Output.standardOutput.jsonLine(report(audit, knownAt: knownAt, verification: verification, drift: drift))
            } else {
                printText(audit, knownAt: knownAt, verification: verification, drift: drift)
            }
            Output.standardOutput.flush()
            if !verification.isIntact { throw ExitCode(ExitStatus.verificationFailed) }
        }
    }

    /// For an audit of everything known now, the streams whose live projection differs from
    /// the replay; nil when the projections cannot answer (stale, or a past point).
    private func projectionDrift(_ ledger: Ledger, _ audit: Auditor.Result) throws -> [String]? {
        let reader = ProjectionReader(ledger)
        guard audit.point.knownAtSeq >= audit.headSeq, try reader.statuses().allSatisfy({ !$0.isStale }) else { return nil }
        // Only a point after every effective date is the projections' own question.
        let latest = try reader.timeline(from: .min, to: .max).last?.instant ?? .min
        guard audit.point.asOf >= latest else { return nil }
        var drifted: [String] = []
        for kind in Set(audit.states.keys.map { String($0.prefix { $0 != "/" }) }) {
            for (stream, state) in try reader.states(kind: kind) where audit.states[stream] != state { drifted.append(stream) }
        }
        return drifted.sorted()
    }

    private func report(_ audit: Auditor.Result, knownAt: UInt64, verification: VerificationReport, drift: [String]?) -> JSONValue {
        var years: [(String, JSONValue)] = []
        for (year, counters) in audit.years.counters.sorted(by: { $0.key < $1.key }) {
            years.append((year, .object(JSONObject(counters.filter { $0.value != 0 }.map { ($0.key, JSONValue.number($0.value)) }))))
        }
        let hindsight = audit.hindsight.map { item in
            JSONValue.object(JSONObject([
                ("stream", .string(item.stream)), ("then", item.then.map(JSONValue.object) ?? .null), ("now", item.now.map(JSONValue.object) ?? .null),
                ("laterEvents", .array(item.events.map(\.json))),
            ]))
        }
        return .object(JSONObject([
            ("asOf", .string(asOf)), ("knownAt", .string(point.knownAt ?? "now")), ("knownAtSeq", .number(Double(knownAt))),
            ("headSeq", .number(Double(audit.headSeq))), ("method", .string(audit.method.rawValue)),
            ("chain", .object(JSONObject([("intact", .bool(verification.isIntact)), ("events", .number(Double(verification.events))),
                                          ("problem", verification.problem.map { .string($0.description) } ?? .null)]))),
            ("years", .object(JSONObject(years))),
            ("entities", .object(JSONObject(audit.states.map { ($0.key, JSONValue.object($0.value)) }))),
            ("hindsight", .array(hindsight)),
            ("projectionDrift", drift.map { .array($0.map(JSONValue.string)) } ?? .null),
        ]))
    }

    private func printText(_ audit: Auditor.Result, knownAt: UInt64, verification: VerificationReport, drift: [String]?) {
        let out = Output.standardOutput
        out.line("Audit of the zone as of \(asOf), as known at \(point.knownAt ?? "now") (seq \(knownAt) of \(audit.headSeq))")
        out.line(verification.isIntact ? "chain: intact, \(verification.events) events verified" : "chain: VERIFICATION FAILED at \(verification.problem!)")
        out.line(audit.snapshotSeq.map { "answer: the audit snapshot of seq \($0), with the entities changed since folded from the log" }
            ?? (fullReplay ? "answer: every entity folded from the log (--full-replay)"
                : "answer: every entity folded from the log (no audit snapshot: 'civic-ledger audit snapshot' makes audits faster)"))
        out.line("")
        var years = TextTable(["YEAR"] + SummaryCommand.columns.map(\.title), rightAligned: Set(1...SummaryCommand.columns.count))
        for (year, counters) in audit.years.counters.sorted(by: { $0.key < $1.key }) {
            years.add([year] + SummaryCommand.columns.map { column in
                let value = counters[column.counter] ?? 0
                return column.counter == "investmentCny" ? Figures.cny(value) : Figures.number(value)
            })
        }
        out.line(years.render())
        let states = audit.states.sorted { $0.key < $1.key }
        out.line("")
        var projects = TextTable(["PROJECT", "INVESTOR", "STATUS", "INVESTMENT", "SIGNED"], rightAligned: [3])
        for (stream, state) in states where stream.hasPrefix("project/") {
            projects.add([String(stream.dropFirst(8)), ProjectsListCommand.name(state["investor"]), state["status"]?.stringValue ?? "-",
                          state["totalInvestmentCny"]?.numberValue.map(Figures.cny) ?? "-", state["signed"]?.stringValue ?? "-"])
        }
        out.line(projects.render())
        out.line("")
        var works = TextTable(["ENTITY", "NAME", "STATUS", "DETAIL"])
        for (stream, state) in states where ["road/", "housing/", "facility/"].contains(where: stream.hasPrefix) {
            let name = ProjectsListCommand.name(state["name"] ?? state["estate"])
            var detail = "-"
            if let units = state["unitsHandedOver"]?.numberValue {
                detail = Figures.number(units) + " units handed over"
            } else if let delivered = state["delivered"]?.stringValue {
                detail = "delivered " + delivered
            } else if let opened = state["opened"]?.stringValue {
                detail = "opened " + opened
            }
            works.add([stream, name, state["status"]?.stringValue ?? "-", detail])
        }
        out.line(works.render())
        out.line("")
        let rows = IndicatorsCommand.rows(targets: states.filter { $0.key.hasPrefix("target/") }.map(\.value),
                                          indicators: states.filter { $0.key.hasPrefix("indicator/") }.map(\.value))
        out.line(rows.isEmpty ? "no targets or reported indicators at that point" : IndicatorsCommand.table(rows))
        out.line("")
        if audit.hindsight.isEmpty {
            out.line("hindsight: nothing recorded after seq \(knownAt) changes this answer")
        } else {
            out.line("hindsight: recorded after seq \(knownAt), these change the answer:")
            for item in audit.hindsight {
                out.line("  \(item.stream): " + item.events.map { "seq \($0.seq) \($0.type) (recorded \($0.recorded))" }.joined(separator: "; "))
            }
        }
        if let drift {
            out.line(drift.isEmpty ? "projections: the live views agree with the replay" : "projections: DRIFT in " + drift.joined(separator: ", "))
        }
    }
}
