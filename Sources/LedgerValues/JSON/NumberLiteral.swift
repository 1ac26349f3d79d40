/// A JSON number as written, read the same way by the parser and the tape: first its syntax,
/// then its value under I-JSON's limits.
struct NumberLiteral {
    let start: Int, end: Int
    let negative: Bool
    let isInteger: Bool
    /// The integer part's digits, and their value while there are at most 19 of them.
    let digits: Int
    let integer: UInt64

    /// Where a number went wrong, and why.
    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    /// Reads the number at `start` (a `-` or a digit).
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Result<NumberLiteral, Failure> {
        var index = start
        func isDigit(_ position: Int) -> Bool { position < bytes.count && bytes[position] &- UInt8(ascii: "0") < 10 }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard isDigit(index) else { return .failure(Failure(offset: index, reason: "a digit was expected in a number")) }
        if bytes[index] == UInt8(ascii: "0"), isDigit(index + 1) {
            return .failure(Failure(offset: index, reason: "numbers may not have leading zeros"))
        }
        var integer: UInt64 = 0
        var digits = 0
        while isDigit(index) {
            if digits < 19 { integer = integer &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0")) }
            digits += 1
            index += 1
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard isDigit(index) else { return .failure(Failure(offset: index, reason: "a digit was expected after the decimal point")) }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { return .failure(Failure(offset: index, reason: "a digit was expected in the exponent")) }
            while isDigit(index) { index += 1 }
        }
        return .success(NumberLiteral(start: start, end: index, negative: negative, isInteger: isInteger, digits: digits, integer: integer))
    }

    /// The number's value: refused when no double holds it, and when it is an integer (or a
    /// number) beyond ±2^53, which would not survive as an exact amount.
    func value(in bytes: UnsafeBufferPointer<UInt8>) -> Result<Double, Failure> {
        if isInteger && digits <= 16 {
            guard integer <= 9_007_199_254_740_992 else {
                return .failure(Failure(offset: start, reason: "integer beyond ±2^53 cannot be held exactly (write it as a string)"))
            }
            return .success(negative ? -Double(integer) : Double(integer))
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        guard let value = Double(literal), value.isFinite else {
            return .failure(Failure(offset: start, reason: "number \(MessageText.quote(literal)) is out of range"))
        }
        if isInteger || abs(value) > JSONValue.maxExactInteger {
            return .failure(Failure(offset: start, reason: "number beyond ±2^53 cannot be held exactly (write it as a string)"))
        }
        return .success(value)
    }
}
