import Synchronization

/// The page around a window's main part, per window, refresh choice and embeds: rendered the
/// first time it is needed and kept, since it holds no figures and no time. At most 6 windows
/// × 6 choices × a few embed lists.
final class PageShells: Sendable {
    struct Key: Hashable, Sendable {
        var window: String
        var refresh: ReportRenderer.Refresh
        var embeds: [String]
        var hasWindows: Bool
    }

    /// The page split where the main part goes.
    struct Shell: Sendable {
        var head: [UInt8]
        var tail: [UInt8]
    }

    private let shells = Mutex<[Key: Shell]>([:])

    /// The kept shell of `key`, or the one `render` makes (then kept).
    func shell(_ key: Key, render: () throws -> Shell) throws -> Shell {
        if let kept = shells.withLock({ $0[key] }) { return kept }
        let shell = try render()
        shells.withLock { $0[key] = shell }
        return shell
    }
}
