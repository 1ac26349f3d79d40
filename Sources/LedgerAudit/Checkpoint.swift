import Crypto
import FoundationEssentials
import LedgerCore
import LedgerValues

/// A signed statement of the ledger's head, small enough to publish: "the ledger held seq N
/// with hash H". Anyone with the public key can check the signature, and `verify --checkpoint`
/// proves a ledger still extends exactly that prefix.
///
/// The document is canonical JSON (RFC 8785) with members `format`, `seq`, `hash`,
/// `recorded` (the head event's), `signed` (when), `publicKey` and `signature`; the Ed25519
/// signature covers the canonical bytes of the document without `signature`.
public struct Checkpoint: Sendable, Equatable {
    public static let format = "civic-ledger-checkpoint/1"

    public var seq: UInt64
    public var hash: ChainHash
    public var recorded: String
    public var signed: String
    public var publicKey: [UInt8]
    public var signature: [UInt8]

    /// Signs the head of `ledger` with `key`.
    public static func sign(_ ledger: Ledger, with key: SigningKey) throws(LedgerError) -> Checkpoint {
        let stats = try ledger.statistics()
        guard stats.headSeq > 0, let recorded = stats.headRecorded else {
            throw LedgerError(.invalidInput, "the ledger is empty: there is no head to sign")
        }
        var checkpoint = Checkpoint(seq: stats.headSeq, hash: stats.headHash, recorded: recorded,
                                    signed: RecordedTime.now().description, publicKey: key.publicKey, signature: [])
        do {
            checkpoint.signature = Array(try key.key.signature(for: checkpoint.signedBytes))
        } catch {
            throw LedgerError(.storage, "cannot sign the checkpoint: \(error)")
        }
        return checkpoint
    }

    /// The bytes the signature covers.
    var signedBytes: [UInt8] { JSONValue.object(members(includingSignature: false)).canonicalBytes }

    public var json: JSONValue { .object(members(includingSignature: true)) }

    private func members(includingSignature: Bool) -> JSONObject {
        var members: [(String, JSONValue)] = [
            ("format", .string(Checkpoint.format)), ("seq", .number(Double(seq))), ("hash", .string(hash.hex)),
            ("recorded", .string(recorded)), ("signed", .string(signed)), ("publicKey", .string(Hex.encode(publicKey))),
        ]
        if includingSignature { members.append(("signature", .string(Hex.encode(signature)))) }
        return JSONObject(members)
    }

    /// Reads a checkpoint document.
    public init(json text: [UInt8]) throws(LedgerError) {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw LedgerError(.invalidInput, "checkpoint: \(error)") }
        guard value["format"]?.stringValue == Checkpoint.format, let seq = value["seq"]?.integerValue, seq > 0,
              let hash = value["hash"]?.stringValue.flatMap({ ChainHash(hex: $0) }),
              let recorded = value["recorded"]?.stringValue, let signed = value["signed"]?.stringValue,
              let publicKey = value["publicKey"]?.stringValue.flatMap(Hex.decode), publicKey.count == 32,
              let signature = value["signature"]?.stringValue.flatMap(Hex.decode), signature.count == 64 else {
            throw LedgerError(.invalidInput, "not a \(Checkpoint.format) document (format, seq, hash, recorded, signed, publicKey, signature)")
        }
        self.init(seq: UInt64(seq), hash: hash, recorded: recorded, signed: signed, publicKey: publicKey, signature: signature)
    }

    init(seq: UInt64, hash: ChainHash, recorded: String, signed: String, publicKey: [UInt8], signature: [UInt8]) {
        self.seq = seq
        self.hash = hash
        self.recorded = recorded
        self.signed = signed
        self.publicKey = publicKey
        self.signature = signature
    }

    /// Whether `publicKey` (the one the zone published, not the one the document names)
    /// signed this checkpoint.
    public func isSigned(by publicKey: [UInt8]) -> Bool {
        guard publicKey == self.publicKey, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: signedBytes)
    }

    /// The head the ledger must still extend.
    public var expectedHead: ExpectedHead { ExpectedHead(seq: seq, hash: hash) }
}

/// An Ed25519 key pair, stored as small JSON files: the private one readable by its owner only.
public struct SigningKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    public init() { key = Curve25519.Signing.PrivateKey() }

    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }
    public var privateKeyJSON: JSONValue {
        .object(JSONObject([("type", .string("ed25519-private")), ("key", .string(Hex.encode(Array(key.rawRepresentation))))]))
    }
    public var publicKeyJSON: JSONValue { SigningKey.publicKeyJSON(publicKey) }

    public static func publicKeyJSON(_ key: [UInt8]) -> JSONValue {
        .object(JSONObject([("type", .string("ed25519-public")), ("key", .string(Hex.encode(key)))]))
    }

    /// Reads a private key file's contents.
    public init(json text: [UInt8]) throws(LedgerError) {
        guard let value = try? JSONParser.parse(text), value["type"]?.stringValue == "ed25519-private",
              let raw = value["key"]?.stringValue.flatMap(Hex.decode), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw LedgerError(.invalidInput, "not an ed25519 private key file (made by 'civic-ledger keys generate')")
        }
        self.key = key
    }

    /// Reads a public key file's contents.
    public static func publicKey(json text: [UInt8]) throws(LedgerError) -> [UInt8] {
        guard let value = try? JSONParser.parse(text), value["type"]?.stringValue == "ed25519-public",
              let raw = value["key"]?.stringValue.flatMap(Hex.decode), raw.count == 32 else {
            throw LedgerError(.invalidInput, "not an ed25519 public key file (made by 'civic-ledger keys generate')")
        }
        return raw
    }
}
