import Foundation
import TestSupport
import Testing

@testable import TokenSource

@Suite struct ProcessRunnerTests {
    @Test func sigtermIgnoredEscalatesToSigkill() async throws {
        let fake = try FakeAz(body: """
            trap '' TERM
            echo $$ > "$HERE/pid"
            while :; do sleep 0.05; done
            """)
        let request = ProcessRequest(
            executablePath: fake.path, arguments: [], timeout: .milliseconds(500),
            terminationGrace: .milliseconds(300))
        let started = ContinuousClock.now
        do {
            _ = try await SubprocessRunner().run(request)
            Issue.record("expected a timeout")
        } catch {
            guard case .timedOut = error else {
                Issue.record("got \(error)")
                return
            }
        }
        // 0.8 s on a quiet machine; the bound only says it does not wait for the loop to end
        // (it never does), with room for a machine busy building.
        #expect(ContinuousClock.now - started < .seconds(60))
        let pid = try #require(fake.read(fake.file("pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(processIsReaped(pid))
    }

    @Test func exitStatusAndSignalAreReported() async throws {
        let exits = try FakeAz(body: "echo out; echo err >&2; exit 7")
        let output = try await SubprocessRunner().run(ProcessRequest(executablePath: exits.path, arguments: []))
        #expect(output.status == .exited(7))
        #expect(output.status.code == 7)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "out\n")
        #expect(output.stderrLines == ["err"])
        #expect(processIsReaped(output.pid))

        let killed = try FakeAz(body: "kill -9 $$")
        let killedOutput = try await SubprocessRunner().run(ProcessRequest(executablePath: killed.path, arguments: []))
        #expect(killedOutput.status == .signaled(9))
        #expect(killedOutput.status.code == 137)
    }

    @Test func spawnErrorsAreMapped() async throws {
        let notExecutable = try FakeAz(body: "exit 0", executable: false)
        await #expect(throws: ProcessRunError.notExecutable(path: notExecutable.path)) {
            try await SubprocessRunner().run(ProcessRequest(executablePath: notExecutable.path, arguments: []))
        }
        let missing = notExecutable.file("missing")
        await #expect(throws: ProcessRunError.notFound(path: missing)) {
            try await SubprocessRunner().run(ProcessRequest(executablePath: missing, arguments: []))
        }
    }

    @Test func argumentsAreNotInterpretedByAShell() async throws {
        let fake = try FakeAz(body: "exit 0")
        let tricky = ["$(touch \"$HERE/pwned\")", "a b", "", "'quoted'", "*", "; exit 3", "line\nbreak"]
        let output = try await SubprocessRunner().run(ProcessRequest(executablePath: fake.path, arguments: tricky))
        #expect(output.status == .exited(0))
        #expect(!FileManager.default.fileExists(atPath: fake.file("pwned")))
        // argv is recorded one per line, so the embedded newline shows as two lines.
        #expect(fake.recordedArguments == ["$(touch \"$HERE/pwned\")", "a b", "", "'quoted'", "*", "; exit 3", "line", "break"])
    }

    @Test func stdoutIsCappedAndStderrKeepsHeadAndTail() async throws {
        let fake = try FakeAz(body: """
            i=0; while [ $i -lt 1000 ]; do echo "line $i" >&2; i=$((i+1)); done
            head -c 5000 /dev/zero
            printf 'no newline at end' >&2
            """)
        let output = try await SubprocessRunner().run(
            ProcessRequest(executablePath: fake.path, arguments: [], stdoutLimit: 1000))
        #expect(output.stdout.count == 1000)
        #expect(output.stdoutTruncated)
        #expect(output.stderrLines.count == SubprocessRunner.stderrHeadLines + SubprocessRunner.stderrTailLines)
        #expect(output.stderrLines.first == "line 0")
        #expect(output.stderrLines.last == "no newline at end")
        #expect(output.stderrLines[SubprocessRunner.stderrHeadLines - 1] == "line 199")
    }

    @Test func cancellationTerminatesTheChild() async throws {
        let fake = try FakeAz(body: """
            echo $$ > "$HERE/pid"
            sleep 300 &
            echo $! > "$HERE/grandchild"
            echo started >&2
            wait
            """)
        let (started, announce) = AsyncStream.makeStream(of: String.self)
        let task = Task {
            try await SubprocessRunner().run(ProcessRequest(executablePath: fake.path, arguments: [], timeout: .seconds(60))) { line in
                announce.yield(line)
            }
        }
        // Wait for the child to announce itself (event-driven, no timer).
        var iterator = started.makeAsyncIterator()
        #expect(await iterator.next() == "started")
        task.cancel()
        let result = await task.result
        #expect(throws: ProcessRunError.cancelled) { try result.get() }
        let pid = try #require(fake.read(fake.file("pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let grandchild = try #require(fake.read(fake.file("grandchild")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(processIsReaped(pid))
        #expect(processIsGoneOrDead(grandchild))
    }

    @Test func lineSplitter() {
        var splitter = LineSplitter()
        func feed(_ s: String) -> [String] { Array(s.utf8).withUnsafeBytes { splitter.feed($0) } }
        #expect(feed("ab") == [])
        #expect(feed("c\r\nde\nf") == ["abc", "de"])
        #expect(feed("\n\n") == ["f", ""])
        #expect(splitter.finish() == nil)
        #expect(feed("tail") == [])
        #expect(splitter.finish() == "tail")
        let long = String(repeating: "x", count: LineSplitter.maximumLineBytes + 10)
        #expect(feed(long).map(\.count) == [LineSplitter.maximumLineBytes])
        #expect(splitter.finish()?.count == 10)
    }
}
