/// The stretch of time a chart shows, in its titles and descriptions: "rolling hour" and
/// "the rolling hour" on the hour's page, "last 24 hours" on the day's.
struct ChartPeriod: Sendable {
    /// After a comma in a title: "Cost by model, rolling hour".
    var title: String
    /// In a sentence: "No usage in the rolling hour."
    var phrase: String
    /// In a column heading: "spend, 1 h".
    var short: String

    static let rollingHour = ChartPeriod(title: "rolling hour", phrase: "the rolling hour", short: "1 h")
}
