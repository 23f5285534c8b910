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
        let fm = FileManager.default
        if target.name == "FleetServer" {
            // The server's routing and member binding come from the botocore model table.
            let model = root.appending(path: "Model")
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedModel.swift")
            let files = ((try? fm.contentsOfDirectory(at: model, includingPropertiesForKeys: nil)) ?? []).filter { $0.pathExtension == "json" }
            return [
                .buildCommand(
                    displayName: "Embedding Model/",
                    executable: try context.tool(named: "fleetdex-embed").url,
                    arguments: ["--model", model.path, output.path],
                    inputFiles: [model] + files,
                    outputFiles: [output]
                )
            ]
        }
        if target.name == "FleetPostgres" {
            // The PostgreSQL migrations: Schema/postgres/.
            let dir = root.appending(path: "Schema").appending(path: "postgres")
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedPostgresSchema.swift")
            let files = ((try? fm.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? []).filter { $0.pathExtension == "sql" }
            return [
                .buildCommand(
                    displayName: "Embedding Schema/postgres/",
                    executable: try context.tool(named: "fleetdex-embed").url,
                    arguments: ["--postgres", dir.path, output.path],
                    inputFiles: [dir] + files,
                    outputFiles: [output]
                )
            ]
        }
        let schema = root.appending(path: "Schema")
        let queries = root.appending(path: "Queries")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
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
