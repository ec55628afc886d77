import SpendCore

/// Settings of the report renderer, with the dashboard's defaults.
public struct ReportConfiguration: Sendable {
    /// Folder of the Mustache templates (`page.mustache`, …). nil uses the copies bundled
    /// into the binary.
    public var templatesDirectory: String?
    /// When `templatesDirectory` does not exist, use the bundled copies instead of failing.
    /// A directory that exists must hold every template either way.
    public var fallsBackToBundledTemplates: Bool
    /// How often snapshots are rendered: the default page's meta-refresh and the live script's
    /// polling interval, and the base of the stale-data warning (three intervals).
    public var renderInterval: Duration
    /// The gauge's scale maximum per hour ($250,000 by default).
    public var gaugeMax: Money

    public init(
        templatesDirectory: String? = "Templates", fallsBackToBundledTemplates: Bool = true,
        renderInterval: Duration = .seconds(5), gaugeMax: Money = Money(dollars: 250_000)
    ) {
        self.templatesDirectory = templatesDirectory
        self.fallsBackToBundledTemplates = fallsBackToBundledTemplates
        self.renderInterval = renderInterval
        self.gaugeMax = gaugeMax
    }
}
