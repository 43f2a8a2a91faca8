import Testing
@testable import Node
import Shared

/// The list container: pushes and pops at both ends against an array model.
@Suite struct ListValueTests {
    @Test func dequeOperationsMatchAnArray() {
        let l = ListValue()
        var model: [Bytes] = []
        for i in 0..<2000 {
            let v = Bytes("\(i)".utf8)
            switch i % 7 {
            case 0, 1, 2: l.pushFront(v); model.insert(v, at: 0)
            case 3, 4: l.pushBack(v); model.append(v)
            case 5: #expect(l.popFront() == (model.isEmpty ? nil : model.removeFirst()))
            default: #expect(l.popBack() == model.popLast())
            }
        }
        #expect(Array(l.elements) == model)
        #expect(l.count == model.count)
        #expect(Array(ListValue(model).elements) == model)
        while l.popFront() != nil {}
        #expect(l.count == 0 && l.popBack() == nil)
    }
}
