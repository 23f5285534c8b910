// Build-tool plugin: embeds the top-level Schema/ migrations and Queries/ saved queries into
// the FleetIndex module as string literals, Model/ (the botocore operation table) into
// FleetServer, and Schema/postgres/ into FleetPostgres. It passes the *directories* to the generator and
// lists them as inputs, so a newly added file is picked up on the next build.
import Foundation
import PackagePlugin

@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let schema = root.appending(path: "Schema")
        /// One run of fleetdex-embed writing `output` from the files of `dirs` ending in one of
        /// `extensions` (the directories themselves are inputs, so a new file is picked up).
        func embed(_ what: String, _ flag: String?, _ dirs: [URL], _ extensions: Set<String>, _ output: String) throws -> [Command] {
            let out = context.pluginWorkDirectoryURL.appending(path: output)
            let files = dirs.flatMap { dir in
                ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? []).filter { extensions.contains($0.pathExtension) }
            }
            return [.buildCommand(displayName: "Embedding \(what)", executable: try context.tool(named: "fleetdex-embed").url,
                                  arguments: (flag.map { [$0] } ?? []) + dirs.map(\.path) + [out.path],
                                  inputFiles: dirs + files, outputFiles: [out])]
        }
        switch target.name {
        case "FleetServer":
            // The server's routing and member binding come from the botocore model table.
            return try embed("Model/", "--model", [root.appending(path: "Model")], ["json"], "EmbeddedModel.swift")
        case "FleetPostgres":
            return try embed("Schema/postgres/", "--postgres", [schema.appending(path: "postgres")], ["sql"], "EmbeddedPostgresSchema.swift")
        default:
            return try embed("Schema/ and Queries/", nil, [schema, root.appending(path: "Queries")], ["sql", "fq"], "EmbeddedFiles.swift")
        }
    }
}
