import AppCore
import FeedModel
import Foundation

/// Entries with distinct, predictable fields: sequence i, one second apart from a fixed instant.
func makeEntries(_ range: ClosedRange<Int>, base: Date = Date(timeIntervalSince1970: 1_790_000_000)) -> [ChangeFeedEntry] {
    range.map { i in
        ChangeFeedEntry(sequence: Int64(i), studyInstanceUid: "1.2.826.0.1.3680043.8.498.\(i / 10)",
                        seriesInstanceUid: "1.2.826.0.1.3680043.8.498.\(i / 10).\(i / 5)",
                        sopInstanceUid: "1.2.826.0.1.3680043.8.498.\(i / 10).\(i / 5).\(i)",
                        action: i % 7 == 0 ? .delete : .create,
                        timestamp: Timestamp(base.addingTimeInterval(Double(i))),
                        state: i % 7 == 0 ? .deleted : .current)
    }
}

let t0 = Date(timeIntervalSince1970: 1_790_000_000)

/// The timestamp `makeEntries` gives entry `i`.
func time(_ i: Int) -> Timestamp { Timestamp(t0.addingTimeInterval(Double(i))) }

func makeState(rows: Int = 24, cols: Int = 80, entries: Int = 0) -> AppState {
    var s = AppState(serviceURL: "https://ws-dicom.dicom.azurehealthcareapis.com", apiVersion: .v2,
                     screenRows: rows, screenCols: cols, now: t0, timeZone: TimeZone(identifier: "UTC")!)
    if entries > 0 { s.append(makeEntries(1...entries)) }
    return s
}

func tokenInfo(expiresIn seconds: TimeInterval, now: Date = t0) -> TokenSummary {
    TokenSummary(expiresOn: now.addingTimeInterval(seconds), identity: "someone@contoso.example",
                 tenant: "72f988bf-0000-4000-8000-000000000001", audience: "https://dicom.healthcareapis.azure.com",
                 masked: "eyJ0…xw9Q", source: "test")
}
