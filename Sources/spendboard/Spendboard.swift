import ArgumentParser

@main
struct Spendboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live AI spend dashboards: usage in, validated HTML and SVG out.",
        subcommands: [Serve.self, Render.self, Import.self, Archive.self],
        defaultSubcommand: Serve.self
    )
}
