/// Makes text from outside (the service, az, files) safe to draw: nothing in it can move the
/// cursor, change the title, write the clipboard or clear the screen. Control characters become
/// visible placeholders, so a hostile value is shown rather than obeyed.
public enum SafeText {
    /// What a C0 control, DEL, a C1 control or a bidirectional control is drawn as.
    public static func placeholder(for scalar: Unicode.Scalar) -> String? {
        let v = scalar.value
        switch v {
        case 0x00...0x1F: return String(Unicode.Scalar(0x2400 + v)!)    // ␀ … ␛ … ␟ (Control Pictures)
        case 0x7F: return "␡"
        case 0x80...0x9F: return "�"                                   // C1 controls, CSI (0x9B) among them
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: return "⁇"  // bidi marks and overrides
        case 0x2028, 0x2029: return "↵"                                  // line and paragraph separators
        case 0xFFF9...0xFFFB: return "⁇"                                 // interlinear annotation controls
        default: return nil
        }
    }

    /// True when `text` has nothing that `sanitize` would change (the common, fast case).
    public static func isClean(_ text: String) -> Bool {
        for s in text.unicodeScalars where placeholder(for: s) != nil { return false }
        return true
    }

    /// `text` with every control replaced by its visible placeholder.
    public static func sanitize(_ text: String) -> String {
        if isClean(text) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if let p = placeholder(for: s) { out.append(contentsOf: p.unicodeScalars) } else { out.append(s) }
        }
        return String(out)
    }
}
