using System.Management.Automation;
using System.Management.Automation.Runspaces;
public class ProbeTests
{
    [Fact]
    public void Loads()
    {
        Console.WriteLine(typeof(Markdig.Markdown).Assembly.GetName().Version);
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:")) { c.Open(); }
        var iss = InitialSessionState.CreateDefault2();
        using var ps = PowerShell.Create(iss);
        ps.AddScript("Import-Module /work/main/out/SemanticCore.PS/0.1.0/SemanticCore.PS.psd1; Test-SemanticProbe; Get-Command -Module SemanticCore.PS | ForEach-Object Name; [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -match 'Markdig|Sqlite' } | ForEach-Object { $_.GetName().ToString() + ' @ ' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }");
        var r = ps.Invoke();
        foreach (var e in ps.Streams.Error) Console.WriteLine("ERR " + e);
        foreach (var o in r) Console.WriteLine(o);
        Assert.Empty(ps.Streams.Error);
    }
}
