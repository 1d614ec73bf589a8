import FeedModel

/// Everything needed to write one instance's metadata, copied out of the store under its lock
/// so that encoding can run without it.
struct InstanceSnapshot: Sendable {
    var index: Int32
    var patient: PatientRecord
    var study: StudyRecord
    var series: SeriesRecord
    var number: Int32
    var version: Int32
    var sopUID: String
    var priorStudyUID: String?
}

/// DICOM JSON (PS3.18 F.2) for an instance, built on demand: keys are 8-hex uppercase tags in
/// ascending order; each attribute has `vr` and `Value` (or `BulkDataURI` / `InlineBinary`).
/// IS, DS and US values are JSON numbers; PN values are objects with component groups.
enum DicomMetadata {
    static func write(_ s: InstanceSnapshot, seed: UInt64, bulkDataBase: String, into w: inout JSONWriter) {
        let info = Modalities.all[Int(s.study.modality)]
        let family = NamePools.families[Int(s.patient.family)]
        let given = NamePools.givens[Int(s.patient.given)]
        var h = SplitMix64(seed: seed ^ (UInt64(UInt32(bitPattern: s.index)) &* 0x2545_F491_4F6C_DD1D))
        let studyDate = dateString(s.study.ticks)
        let studyTime = timeString(s.study.ticks)

        w.byte(123)   // {
        attr(&w, "00080005", "CS") { w in w.raw("[\"ISO_IR 192\"]") }
        attr(&w, "00080008", "CS", first: false) { w in
            w.raw("[\"ORIGINAL\",\"PRIMARY\"")
            if !info.imageType3.isEmpty { w.byte(44); w.string(info.imageType3) }
            w.byte(93)
        }
        stringAttr(&w, "00080016", "UI", info.sopClass)
        stringAttr(&w, "00080018", "UI", s.sopUID)
        stringAttr(&w, "00080020", "DA", studyDate)
        stringAttr(&w, "00080021", "DA", studyDate)
        stringAttr(&w, "00080030", "TM", studyTime)
        let accession = "ACC" + String(s.study.accession) + (s.version > 0 ? "-U" + String(s.version) : "")
        stringAttr(&w, "00080050", "SH", accession)
        stringAttr(&w, "00080060", "CS", info.code)
        stringAttr(&w, "00080070", "LO", NamePools.manufacturers[Int(s.study.accession % UInt32(NamePools.manufacturers.count))])
        attr(&w, "00080090", "PN", first: false) { w in
            w.raw("[{\"Alphabetic\":")
            w.string(NamePools.physicians[Int(s.study.physician)])
            w.raw("}]")
        }
        stringAttr(&w, "00081030", "LO", info.studyDescriptions[Int(s.study.description)])
        attr(&w, "00081032", "SQ", first: false) { w in
            let code = info.procedures[Int(s.study.accession) % info.procedures.count]
            w.raw("[{")
            stringAttr(&w, "00080100", "SH", code.value, first: true)
            stringAttr(&w, "00080102", "SH", code.scheme)
            stringAttr(&w, "00080104", "LO", code.meaning)
            w.raw("}]")
        }
        stringAttr(&w, "0008103E", "LO", info.seriesDescriptions[Int(s.series.description)])
        if let prior = s.priorStudyUID {
            attr(&w, "00081110", "SQ", first: false) { w in
                w.raw("[{")
                stringAttr(&w, "00081150", "UI", "1.2.840.10008.3.1.2.3.1", first: true)
                stringAttr(&w, "00081155", "UI", prior)
                w.raw("}]")
            }
        }
        attr(&w, "00100010", "PN", first: false) { w in
            w.raw("[{\"Alphabetic\":")
            w.string(family.alphabetic + "^" + given.alphabetic)
            if let fi = family.ideographic, let gi = given.ideographic {
                w.raw(",\"Ideographic\":")
                w.string(fi + "^" + gi)
            }
            if let fp = family.phonetic, let gp = given.phonetic {
                w.raw(",\"Phonetic\":")
                w.string(fp + "^" + gp)
            }
            w.raw("}]")
        }
        stringAttr(&w, "00100020", "LO", "PID" + String(s.patient.id))
        stringAttr(&w, "00100030", "DA", dateString(Int64(s.patient.birthDays) * FeedTime.ticksPerDay))
        stringAttr(&w, "00100040", "CS", given.sex)
        if let thickness = info.sliceThickness {
            numberAttr(&w, "00180050", "DS", [thickness])
        }
        stringAttr(&w, "0020000D", "UI", s.study.uid)
        stringAttr(&w, "0020000E", "UI", s.series.uid)
        numberAttr(&w, "00200011", "IS", [String(s.series.number)])
        numberAttr(&w, "00200013", "IS", [String(s.number)])
        numberAttr(&w, "00280010", "US", [String(info.rows)])
        numberAttr(&w, "00280011", "US", [String(info.columns)])
        numberAttr(&w, "00280030", "DS", [info.pixelSpacing, info.pixelSpacing])
        numberAttr(&w, "00281050", "DS", info.windowCenters)
        numberAttr(&w, "00281051", "DS", info.windowWidths)
        stringAttr(&w, "00290010", "LO", "DICOMTUI EMULATOR")
        attr(&w, "00291010", "OB", first: false, valueKey: "InlineBinary") { w in
            var raw: [UInt8] = []
            for _ in 0..<2 { withUnsafeBytes(of: h.next().littleEndian) { raw.append(contentsOf: $0) } }
            w.byte(34)
            w.bytes.append(contentsOf: base64(raw))
            w.byte(34)
        }
        attr(&w, "7FE00010", "OW", first: false, valueKey: "BulkDataURI") { w in
            w.string(bulkDataBase + "/studies/" + s.study.uid + "/series/" + s.series.uid
                     + "/instances/" + s.sopUID + "/bulk/7FE00010")
        }
        w.byte(125)   // }
    }

    @inline(__always)
    private static func attr(_ w: inout JSONWriter, _ tag: StaticString, _ vr: StaticString, first: Bool = true,
                             valueKey: StaticString = "Value", _ value: (inout JSONWriter) -> Void) {
        if !first { w.byte(44) }
        w.byte(34); w.raw(tag); w.raw("\":{\"vr\":\""); w.raw(vr); w.raw("\",\""); w.raw(valueKey); w.raw("\":")
        value(&w)
        w.byte(125)
    }

    private static func stringAttr(_ w: inout JSONWriter, _ tag: StaticString, _ vr: StaticString, _ value: String,
                                   first: Bool = false) {
        attr(&w, tag, vr, first: first) { w in
            w.byte(91); w.string(value); w.byte(93)
        }
    }

    private static func numberAttr(_ w: inout JSONWriter, _ tag: StaticString, _ vr: StaticString, _ values: [String]) {
        attr(&w, tag, vr, first: false) { w in
            w.byte(91)
            for (i, v) in values.enumerated() {
                if i > 0 { w.byte(44) }
                w.rawText(v)
            }
            w.byte(93)
        }
    }

    static func dateString(_ ticks: Int64) -> String {
        let (y, m, d) = Timestamp.civilFromDays(Int(ticks.flooredDivision(by: Timestamp.ticksPerDay)))
        return pad(y, 4) + pad(m, 2) + pad(d, 2)
    }

    static func timeString(_ ticks: Int64) -> String {
        let seconds = Timestamp(ticks: ticks).wholeSeconds
        let secondsOfDay = Int(seconds - seconds.flooredDivision(by: 86_400) * 86_400)
        return pad(secondsOfDay / 3600, 2) + pad(secondsOfDay / 60 % 60, 2) + pad(secondsOfDay % 60, 2)
    }

    private static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let b0 = UInt32(data[i])
            let b1 = i + 1 < data.count ? UInt32(data[i + 1]) : 0
            let b2 = i + 2 < data.count ? UInt32(data[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < data.count ? alphabet[Int(n >> 6 & 63)] : 61)
            out.append(i + 2 < data.count ? alphabet[Int(n & 63)] : 61)
            i += 3
        }
        return out
    }
}
