/// One colour per model, the same in every render and every file.
///
/// The reference models have fixed colours; any other name gets a colour derived from a stable
/// hash of its UTF-8 bytes (FNV-1a, not `Hasher`, which is seeded per process).
public enum ModelColors {
    public static let known: [String: String] = [
        "gpt-4": "#16a34a",
        "gpt-3.5-turbo": "#2563eb",
        "claude-3-opus": "#d97706",
        "claude-3-sonnet": "#9333ea",
    ]

    /// `#rrggbb` for a model name.
    public static func color(for model: String) -> String {
        if let color = known[model] { return color }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in model.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hue = Double(hash % 360)
        let lightness = 0.40 + Double((hash >> 16) % 3) * 0.06
        return hex(hue: hue, saturation: 0.65, lightness: lightness)
    }

    static func hex(hue: Double, saturation: Double, lightness: Double) -> String {
        let c = (1 - abs(2 * lightness - 1)) * saturation
        let h = hue / 60
        let x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
        let (r, g, b): (Double, Double, Double) =
            switch Int(h) {
            case 0: (c, x, 0)
            case 1: (x, c, 0)
            case 2: (0, c, x)
            case 3: (0, x, c)
            case 4: (x, 0, c)
            default: (c, 0, x)
            }
        let m = lightness - c / 2
        let digits = Array("0123456789abcdef")
        var text = "#"
        for component in [r, g, b] {
            let value = Int(((component + m) * 255).rounded())
            text.append(digits[value / 16])
            text.append(digits[value % 16])
        }
        return text
    }
}
