import ArgumentParser
import LedgerCore
import LedgerSchemas
import LedgerValues

struct SchemaValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate JSON files against a schema file or a catalog type, with the ledger's own validator.",
        discussion: """
            Exit 0 when every instance is valid, 1 when any is not (each failure is printed
            with its JSON pointer and the rule broken), 65 when the schema itself cannot be
            used (for example a keyword this validator does not implement).

            Examples:
              civic-ledger schema validate --type road.delivered road.json
              civic-ledger schema validate --type project.signed --schema-version 1 a.json
              civic-ledger schema validate --schema my.schema.json a.json b.json --json
            """
    )

    @Option(help: ArgumentHelp("A JSON Schema file.", valueName: "file")) var schema: String?
    @Option(help: "A catalog event type, instead of --schema.") var type: String?
    @Option(help: ArgumentHelp("With --type: the schema version (default: the current one).", valueName: "n"))
    var schemaVersion: Int?
    @Argument(help: ArgumentHelp("JSON files to validate.", valueName: "instance.json")) var instances: [String]
    @Flag(help: "Print one JSON object per instance: file, valid, errors.") var json = false

    func validate() throws {
        guard (schema == nil) != (type == nil) else { throw ValidationError("give --schema FILE or --type TYPE") }
        if schemaVersion != nil && type == nil { throw ValidationError("--schema-version goes with --type") }
        guard !instances.isEmpty else { throw ValidationError("name at least one instance file") }
    }

    func run() throws {
        var allValid = true
        try reportingErrors {
            let compiled = try loadSchema()
            for path in instances {
                var problems: [(pointer: String, keyword: String, message: String)] = []
                do {
                    let instance = try JSONParser.parse(try InputFile.read(path))
                    problems = compiled.validate(instance).map { ($0.instancePath, $0.keyword, $0.message) }
                } catch let error as JSONParseError {
                    problems = [("", "json", error.description)]
                }
                allValid = allValid && problems.isEmpty
                report(path, problems)
            }
            Output.standardOutput.flush()
        }
        if !allValid { throw ExitCode(ExitStatus.verificationFailed) }
    }

    private func loadSchema() throws(LedgerError) -> JSONSchema {
        if let type {
            guard let entry = EventCatalog.shared.types[type], let found = entry.versions[schemaVersion ?? entry.currentVersion] else {
                throw LedgerError(.notFound, "no schema for type '\(type)'\(schemaVersion.map { " version \($0)" } ?? "") ('civic-ledger schema list' shows the catalog)")
            }
            return found
        }
        let text = try InputFile.read(schema!)
        do { return try JSONSchema(text: text) } catch {
            throw LedgerError(.invalidInput, "cannot use the schema '\(schema!)': \(error)")
        }
    }

    private func report(_ path: String, _ problems: [(pointer: String, keyword: String, message: String)]) {
        let out = Output.standardOutput
        if json {
            let errors = problems.map { problem in
                JSONValue.object(JSONObject([("pointer", .string(problem.pointer)), ("keyword", .string(problem.keyword)),
                                             ("message", .string(problem.message))]))
            }
            out.jsonLine(.object(JSONObject([("file", .string(path)), ("valid", .bool(problems.isEmpty)), ("errors", .array(errors))])))
        } else if problems.isEmpty {
            out.line("\(path): valid")
        } else {
            out.line("\(path): invalid")
            for problem in problems {
                out.line("  \(problem.pointer.isEmpty ? "/" : problem.pointer): \(problem.message) (\(problem.keyword))")
            }
        }
    }
}
