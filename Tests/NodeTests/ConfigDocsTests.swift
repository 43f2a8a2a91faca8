import Foundation
import Testing
@testable import Node

/// docs/config-directives.md lists every directive of the table with its current default.
@Suite struct ConfigDocsTests {
    static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/config-directives.md").path

    @Test func docListsEveryDirective() throws {
        let doc = try String(contentsOfFile: Self.docPath, encoding: .utf8)
        let missing = ConfigTable.shared.markdownRows().filter { !doc.contains($0) }
        #expect(missing.isEmpty, "rows missing or stale in docs/config-directives.md:\n\(missing.joined(separator: "\n"))")
    }
}
