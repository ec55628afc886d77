/// Escaping for text that goes into XML, XHTML and SVG.
///
/// Every data-derived string (customer, tenant and model ids) passes through here or through
/// Mustache's `{{…}}` escaping after `sanitized(_:)`, so a name such as `<script>x</script>` or
/// `&` appears as text and the file stays well-formed.
enum XMLText {
    /// Replaces characters that XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) with U+FFFD.
    /// Escaping cannot fix those: `&#1;` is itself invalid in XML 1.0.
    static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !isAllowed($0) }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            result.append(isAllowed(scalar) ? scalar : "\u{FFFD}")
        }
        return String(result)
    }

    /// Escapes `& < > " '` and sanitizes forbidden characters: safe in text and in quoted
    /// attribute values.
    static func escaped(_ text: String) -> String {
        var needsWork = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&", "<", ">", "\"", "'": needsWork = true
            default: if !isAllowed(scalar) { needsWork = true }
            }
            if needsWork { break }
        }
        guard needsWork else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(isAllowed(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return result
    }

    /// At most `limit` characters, with an ellipsis when shortened (for fixed-width SVG labels).
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "\u{2026}"
    }

    @inline(__always)
    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v >= 0x20 { return v != 0xFFFE && v != 0xFFFF }
        return v == 0x9 || v == 0xA || v == 0xD
    }
}
