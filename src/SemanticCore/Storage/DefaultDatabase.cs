namespace SemanticCore.Storage;

/// <summary>Where an index lives when neither -Database nor $env:SEMANTICCORE_DATABASE says.</summary>
public static class DefaultDatabase
{
    public const string EnvironmentVariable = "SEMANTICCORE_DATABASE";

    /// <summary>
    /// Per user: <c>~/.local/share/SemanticCore.PS/index.db</c> on Linux ($XDG_DATA_HOME when set),
    /// <c>~/Library/Application Support/SemanticCore.PS/index.db</c> on macOS,
    /// <c>%LOCALAPPDATA%\SemanticCore.PS\index.db</c> on Windows.
    /// </summary>
    public static string Path => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
        "SemanticCore.PS",
        "index.db");
}
