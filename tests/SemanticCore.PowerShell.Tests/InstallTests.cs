using System.IO.Compression;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// build.ps1's Install, Uninstall and Package tasks on the module already built in out/ (-NoBuild), run by the
/// host as a user runs them, into temporary folders: what lands where, and what pwsh then finds by name.
/// </summary>
public sealed class InstallTests : IDisposable
{
    private static readonly string Version = Path.GetFileName(Path.GetDirectoryName(FindBuiltManifest())!);
    private readonly TestDirectory dir = new();

    [Fact]
    public void Install_replaces_an_earlier_copy_and_Import_Module_finds_it_by_name()
    {
        var modules = dir.Combine("Modules");
        var folder = Path.Combine(modules, "SemanticCore.PS", Version);
        dir.Write($"Modules/SemanticCore.PS/{Version}/left-by-an-earlier-install.txt", "stale");

        var (exitCode, stdout, stderr) = RunBuild("-Task", "Install", "-NoBuild", "-Destination", modules);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains($"installed in {folder}", stdout.ReplaceLineEndings(""));
        Assert.False(File.Exists(Path.Combine(folder, "left-by-an-earlier-install.txt")), "an earlier copy of this version was not replaced");
        Assert.Empty(Directory.GetFiles(folder, "*.pdb", SearchOption.AllDirectories));
        Assert.True(File.Exists(Path.Combine(folder, "LICENSE")));

        // PSModulePath set inside the session, so only that folder is searched (the host also lists the repository's build).
        var import = HostProcess.Run(dir.Path, "-Command",
            $"$env:PSModulePath = '{modules}'; Import-Module SemanticCore.PS; (Get-Module SemanticCore.PS).ModuleBase; (Get-Command Search-SemanticIndex).Source; " +
            "Import-Module SemanticCore.PS.Onnx; (Get-Module SemanticCore.PS.Onnx).ModuleBase");

        Assert.True(import.ExitCode == 0, import.Stderr);
        var lines = import.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(folder, lines[0]);
        Assert.Equal("SemanticCore.PS", lines[1]);
        Assert.Equal(Path.Combine(modules, "SemanticCore.PS.Onnx", Version), lines[2]);
    }

    [LinuxFact]
    public void Install_for_the_current_user_goes_where_pwsh_looks_never_shadows_the_host_s_build_and_Uninstall_removes_it()
    {
        var data = dir.Combine("data");
        var modules = Path.Combine(data, "powershell", "Modules");
        var environment = new Dictionary<string, string?> { ["XDG_DATA_HOME"] = data };

        var install = RunBuild(environment, "-Task", "Install", "-NoBuild");
        var searched = HostProcess.Run(dir.Path, environment, "-Command", "$env:PSModulePath");

        Assert.True(install.ExitCode == 0, install.Stderr);
        Assert.True(File.Exists(Path.Combine(modules, "SemanticCore.PS", Version, "SemanticCore.PS.psd1")));
        Assert.Contains(modules, searched.Stdout.Trim().Split(':'));
        Assert.DoesNotContain("is not on", install.Stdout + install.Stderr);

        // The repository's host, and so its test command, still loads this repository's build by name.
        var onHost = HostProcess.Run(dir.Path, environment, "-Command", "Import-Module SemanticCore.PS; (Get-Module SemanticCore.PS).ModuleBase");
        Assert.True(onHost.ExitCode == 0, onHost.Stderr);
        Assert.Equal(Path.GetDirectoryName(FindBuiltManifest()), onHost.Stdout.Trim());

        var uninstall = RunBuild(environment, "-Task", "Uninstall");

        Assert.True(uninstall.ExitCode == 0, uninstall.Stderr);
        Assert.False(Directory.Exists(Path.Combine(modules, "SemanticCore.PS")));
        Assert.False(Directory.Exists(Path.Combine(modules, "SemanticCore.PS.Onnx")));
    }

    [Fact]
    public void Package_has_no_debug_symbols_and_carries_the_readme_and_this_version_s_release_notes()
    {
        var (exitCode, _, stderr) = RunBuild("-Task", "Package", "-NoBuild");

        Assert.True(exitCode == 0, stderr);
        var package = Path.Combine(ModuleFixture.RepoRoot, "out", "package", $"SemanticCore.PS.{Version}.nupkg");
        using (var zip = ZipFile.OpenRead(package))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));
            Assert.Contains("README.md", names);
            Assert.Contains("SemanticCore.PS.psd1", names);
            using var nuspec = new StreamReader(zip.GetEntry("SemanticCore.PS.nuspec")!.Open());
            Assert.Contains("<readme>README.md</readme>", nuspec.ReadToEnd());
        }

        using (var zip = ZipFile.OpenRead(Path.Combine(ModuleFixture.RepoRoot, "out", "package", $"SemanticCore.PS.Onnx.{Version}.nupkg")))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));
            Assert.Contains("SemanticCore.PS.Onnx.psd1", names);
            Assert.Contains("models/all-MiniLM-L6-v2/model.onnx", names);
            Assert.DoesNotContain("dependencies/SemanticCore.dll", names);
        }

        var manifest = Path.Combine(ModuleFixture.RepoRoot, "out", "package", "SemanticCore.PS", Version, "SemanticCore.PS.psd1");
        var notes = HostProcess.Run(dir.Path, "-Command", $"(Import-PowerShellDataFile '{manifest}').PrivateData.PSData.ReleaseNotes");

        Assert.True(notes.ExitCode == 0, notes.Stderr);
        Assert.StartsWith("### ", notes.Stdout.Trim());
        Assert.Equal(ChangelogSection(Version), notes.Stdout.ReplaceLineEndings("\n").Trim());
    }

    public void Dispose() => dir.Dispose();

    private static (int ExitCode, string Stdout, string Stderr) RunBuild(params string[] args) =>
        RunBuild(new Dictionary<string, string?>(), args);

    private static (int ExitCode, string Stdout, string Stderr) RunBuild(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        HostProcess.Run(ModuleFixture.RepoRoot, environment, ["-NonInteractive", "-File", "build.ps1", .. args]);

    /// <summary>The lines of CHANGELOG.md between this version's "## [version]" heading and the next "## " heading.</summary>
    private static string ChangelogSection(string version)
    {
        var lines = File.ReadAllLines(Path.Combine(ModuleFixture.RepoRoot, "CHANGELOG.md"));
        var section = lines.SkipWhile(l => !l.StartsWith($"## [{version}]", StringComparison.Ordinal)).Skip(1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal));
        return string.Join("\n", section).Trim();
    }

    private static string FindBuiltManifest() =>
        Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "out", "SemanticCore.PS"), "SemanticCore.PS.psd1", SearchOption.AllDirectories).Single();
}
