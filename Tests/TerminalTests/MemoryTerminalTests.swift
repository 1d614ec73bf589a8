import Testing
import TerminalKit
@testable import Terminal

@Suite struct MemoryTerminalTests {
    @Test func waitNeverBlocksAndReportsTimeout() {
        let t = MemoryTerminal()
        #expect(t.wait(timeoutMilliseconds: nil) == .timeout)
        #expect(t.wait(timeoutMilliseconds: 1000) == .timeout)
        #expect(t.waitTimeouts == [nil, 1000])
    }

    @Test func scriptedInputComesBackOneBatchPerRead() {
        let t = MemoryTerminal()
        t.feed(keys: .char("j"), .down)
        t.type("ab")
        #expect(t.wait(timeoutMilliseconds: 0) == .input)
        #expect(t.readInput() == [.key(.char("j")), .key(.down)])
        #expect(t.wait(timeoutMilliseconds: 0) == .input)
        #expect(t.readInput() == [.key(.char("a")), .key(.char("b"))])
        #expect(t.wait(timeoutMilliseconds: 0) == .timeout)
        #expect(t.readInput() == [])
    }

    @Test func wakerWakesOnceAndFromOtherThreads() async {
        let t = MemoryTerminal()
        let waker = t.waker
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<8 { g.addTask { waker.wake() } }
        }
        #expect(t.wait(timeoutMilliseconds: 0) == .woken)
        #expect(t.wait(timeoutMilliseconds: 0) == .timeout)
    }

    @Test func inputTakesPrecedenceOverWakeAndTerminateOverBoth() {
        let t = MemoryTerminal()
        t.waker.wake()
        t.feed(keys: .enter)
        t.sendTerminate(signal: 15)
        #expect(t.wait(timeoutMilliseconds: 0) == .terminate(signal: 15))
        #expect(t.wait(timeoutMilliseconds: 0) == .input)
        _ = t.readInput()
        #expect(t.wait(timeoutMilliseconds: 0) == .woken)
    }

    @Test func resizeChangesTheSizeAndQueuesAnEvent() {
        let t = MemoryTerminal(rows: 24, cols: 80)
        t.resize(rows: 10, cols: 40)
        #expect(t.size == (10, 40))
        #expect(t.readInput() == [.resize(rows: 10, cols: 40)])
    }

    @Test func framesAreRecorded() {
        let t = MemoryTerminal(rows: 2, cols: 10)
        #expect(t.lastFrame == nil)
        var c = Canvas(rows: 2, cols: 10)
        c.draw("one", row: 0, col: 0)
        t.present(c)
        c.draw("two", row: 1, col: 0)
        t.present(c)
        #expect(t.frames.count == 2)
        #expect(t.frames[0].lines() == ["one", ""])
        #expect(t.lastFrame?.lines() == ["one", "two"])
    }

    @Test func suspendRunsTheBodySuspendedAndCounts() throws {
        let t = MemoryTerminal()
        let seen = t.suspend { t.isSuspended }
        #expect(seen)
        #expect(!t.isSuspended)
        struct Boom: Error {}
        #expect(throws: Boom.self) { try t.suspend { throw Boom() } }
        #expect(t.suspendCount == 2)
        #expect(!t.isSuspended)
    }

    @Test func shutdownIsCounted() {
        let t = MemoryTerminal()
        #expect(!t.isShutDown)
        t.shutdown(); t.shutdown()
        #expect(t.shutdownCount == 2)
        #expect(t.isShutDown)
    }

    @Test func usableThroughTheProtocol() {
        let device: any TerminalDevice = MemoryTerminal(rows: 5, cols: 7, hasColor: false)
        #expect(device.size == (5, 7))
        #expect(!device.hasColor)
    }
}

@Suite struct PipeWakerTests {
    @Test func wakesCoalesceUntilDrained() throws {
        let w = try PipeWaker()
        w.wake(); w.wake(); w.wake()
        #expect(w.drain() == [PipeWaker.Tag.wake])
        #expect(w.drain() == [])
        w.wake()
        #expect(w.drain() == [PipeWaker.Tag.wake])
    }

    @Test func wakeFromManyTasksIsSafe() async throws {
        let w = try PipeWaker()
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<32 { g.addTask { w.wake() } }
        }
        let bytes = w.drain()
        #expect(bytes.count >= 1 && bytes.allSatisfy { $0 == PipeWaker.Tag.wake })
    }
}
