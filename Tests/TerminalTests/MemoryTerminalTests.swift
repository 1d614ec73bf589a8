import Foundation
import Glibc
import Synchronization
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

    @Test func aBlockingTerminalWaitsForTheTimeoutThenForInputOrAWakeFromAnotherThread() {
        let t = MemoryTerminal(blocking: true)
        let clock = ContinuousClock()
        let slept = clock.measure { #expect(t.wait(timeoutMilliseconds: 50) == .timeout) }
        #expect(slept >= .milliseconds(45))

        let feeder = Thread {
            usleep(50_000)
            t.feed(keys: .char("q"))
        }
        feeder.start()
        #expect(t.wait(timeoutMilliseconds: nil) == .input)
        #expect(t.readInput() == [.key(.char("q"))])

        let waker = t.waker
        Thread { usleep(50_000); waker.wake() }.start()
        #expect(t.wait(timeoutMilliseconds: 10_000) == .woken)
        Thread { usleep(50_000); t.sendTerminate(signal: 15) }.start()
        #expect(t.wait(timeoutMilliseconds: 10_000) == .terminate(signal: 15))
        #expect(t.waitTimeouts == [50, nil, 10_000, 10_000])
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

    /// A wake that comes while the UI thread drains the pipe must never leave the pending flag
    /// set with the pipe empty: every later wake would then be swallowed, and the UI would sleep
    /// until its next timer (a follow poll's results showed up to a minute late). A producer
    /// wakes, a consumer thread polls and drains, many thousands of times; each wake must be
    /// seen within a second.
    @Test func noWakeIsLostToARacingDrain() throws {
        let w = try PipeWaker()
        let posted = Atomic<Int>(0), seen = Atomic<Int>(0), stop = Atomic<Bool>(false)
        let consumer = Thread {
            var fd = pollfd(fd: w.readFD, events: Int16(POLLIN), revents: 0)
            while !stop.load(ordering: .acquiring) {
                let n = poll(&fd, 1, 200)
                if n > 0 {
                    _ = w.drain()
                    seen.store(posted.load(ordering: .acquiring), ordering: .releasing)
                }
            }
        }
        consumer.start()
        defer { stop.store(true, ordering: .releasing) }
        var lost = 0
        var round = 0
        for _ in 1...40 {
            // Wakes without a pause for 20 ms, so that many land while the consumer drains;
            // one swallowed at the wrong moment swallows every later one.
            let until = ContinuousClock.now + .milliseconds(20)
            while ContinuousClock.now < until {
                round += 1
                posted.store(round, ordering: .releasing)
                w.wake()
            }
            let deadline = ContinuousClock.now + .seconds(1)
            while seen.load(ordering: .acquiring) < round {
                if ContinuousClock.now > deadline { lost += 1; break }
            }
            if lost > 0 { break }
        }
        #expect(lost == 0, "a wake was lost: the UI thread would sleep until its next timer")
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
