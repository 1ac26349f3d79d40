import Foundation
import Testing
import TestSupport

/// The HTML report must look right in a browser: headless Chromium renders it to PNG, and the
/// picture must not be blank (a chart and tables in several colours).
@Suite struct AuditPageTests {
    let dir = TemporaryDirectory()

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func theReportPageRendersAChartAndTables() throws {
        let ledger = dir.path + "/ledger", page = dir.path + "/audit.html", png = dir.path + "/audit.png"
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/data/xiangcheng-2021-2022.ndjson").path
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", data]).status == 0)
        let result = try CLI.run(["audit", "--as-of", "2021-12-31", "--html", page, "--ledger", ledger])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("as of 2021-12-31") && html.contains("八维通") == false)
        #expect(html.contains("晟盈半导体") && html.contains("2,312"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("https://"))

        let browser = try #require(Self.chromium, "headless Chromium is needed (tools/test installs Debian's chromium)")
        let render = Process()
        render.executableURL = URL(fileURLWithPath: browser)
        render.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400",
                            "--screenshot=\(png)", "file://\(page)"]
        render.standardOutput = FileHandle.nullDevice
        render.standardError = FileHandle.nullDevice
        try render.run()
        render.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: png))
        // Count the colours of the rendered page (decoded by Python's zlib): a blank page has one.
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            pos, idat, width, height = 8, b'', 0, 0
            while pos < len(data):
                length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                chunk = data[pos + 8:pos + 8 + length]
                if kind == b'IHDR': width, height, depth, colour = struct.unpack('>IIBB', chunk[:10])
                if kind == b'IDAT': idat += chunk
                pos += 12 + length
            raw = zlib.decompress(idat)
            stride = (len(raw) // height)
            colours = set()
            for row in range(0, height, 7):
                line = raw[row * stride + 1:(row + 1) * stride]
                for x in range(0, len(line) - 3, 4 * 5):
                    colours.add(line[x:x + 3])
            print(len(colours))
            """
        let count = Process()
        count.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        count.arguments = ["python3", "-c", script, png]
        let out = Pipe()
        count.standardOutput = out
        try count.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        count.waitUntilExit()
        let colours = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(colours >= 6, "the rendered page has \(colours) colours: blank?")
    }
}
