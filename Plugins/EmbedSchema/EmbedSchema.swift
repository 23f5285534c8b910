// Build-tool plugin: embeds the top-level Schema/ migrations and Queries/ saved queries into
// the FleetIndex module as string literals. It passes the *directories* to the generator and
// lists them as inputs, so a newly added file is picked up on the next build.
import Foundation
import PackagePlugin

@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let schema = root.appending(path: "Schema")
        let queries = root.appending(path: "Queries")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        let fm = FileManager.default
        func files(_ dir: URL) -> [URL] {
            ((try? fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
                .filter { $0.pathExtension == "sql" || $0.pathExtension == "fq" }
        }
        return [
            .buildCommand(
                displayName: "Embedding Schema/ and Queries/",
                executable: try context.tool(named: "fleetdex-embed").url,
                arguments: [schema.path, queries.path, output.path],
                inputFiles: [schema, queries] + files(schema) + files(queries),
                outputFiles: [output]
            )
        ]
    }
}
