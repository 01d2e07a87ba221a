using System.Management.Automation;
using SemanticCore.Build;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The help pages in docs/en-US (from which the build writes the module's MAML) must describe the cmdlets
/// as they are: every exported cmdlet has a page, and each page's parameter sets and parameters (name,
/// type, aliases, mandatory, position, pipeline binding) agree with the cmdlet's own metadata.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class HelpDriftTests(ModuleFixture module) : IDisposable
{
    private static readonly string PagesDirectory = Path.Combine(ModuleFixture.RepoRoot, "docs", "en-US");
    private readonly TestDirectory dir = new();

    [Fact]
    public void Every_exported_cmdlet_has_a_page_and_every_page_a_cmdlet()
    {
        var pages = Directory.GetFiles(PagesDirectory, "*-*.md").Select(f => Path.GetFileNameWithoutExtension(f)).Order().ToList();

        Assert.Equal(Cmdlets().Select(c => c.Name).Order().ToList(), pages);
    }

    [Fact]
    public void Every_page_agrees_with_its_cmdlets_parameter_sets_and_parameters()
    {
        var problems = Cmdlets().SelectMany(c => Compare(c, HelpPageReader.Read(Path.Combine(PagesDirectory, c.Name + ".md")))).ToList();

        Assert.True(problems.Count == 0, "The help pages disagree with the cmdlets:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void A_page_that_disagrees_is_reported()
    {
        var cmdlet = Cmdlets().Single(c => c.Name == "Get-BatchJob");
        var page = HelpPageReader.Read(Path.Combine(PagesDirectory, "Get-BatchJob.md"));
        var id = page.Parameters.Single(p => p.Name == "Id").Usages[0];
        id.Required = false;
        id.Position = "Named";
        id.PipelineInput = "True (ByValue)";
        page.Parameters.Single(p => p.Name == "Status").Usages[0].Type = "String[]";
        page.Parameters.RemoveAll(p => p.Name == "Active");

        var problems = Compare(cmdlet, page).ToList();

        Assert.Contains(problems, p => p.Contains("-Id") && p.Contains("mandatory"));
        Assert.Contains(problems, p => p.Contains("-Id") && p.Contains("position"));
        Assert.Contains(problems, p => p.Contains("-Id") && p.Contains("pipeline"));
        Assert.Contains(problems, p => p.Contains("-Status") && p.Contains("type"));
        Assert.Contains(problems, p => p.Contains("-Active") && p.Contains("no section"));
    }

    private List<CmdletInfo> Cmdlets()
    {
        using var ps = module.NewSession(dir.Path);
        return ps.Run("Get-Command -Module SemanticCore.PS -CommandType Cmdlet").AssertNoErrors().Output.Select(o => (CmdletInfo)o.BaseObject).ToList();
    }

    private static IEnumerable<string> Compare(CmdletInfo cmdlet, HelpPage page)
    {
        var name = cmdlet.Name;
        if (page.Name != name) yield return $"{name}: the page is titled '{page.Name}'.";

        // A cmdlet with one set has it as its default, as the page's SYNTAX without set headings says.
        var sets = cmdlet.ParameterSets.Select(s => (s.Name, s.IsDefault || cmdlet.ParameterSets.Count == 1)).OrderBy(s => s.Name).ToList();
        var pageSets = page.ParameterSets.OrderBy(s => s.Name).ToList();
        if (!sets.SequenceEqual(pageSets))
        {
            yield return $"{name}: parameter sets are {Describe(sets)}, the page's SYNTAX has {Describe(pageSets)}.";
        }

        var parameters = cmdlet.ParameterSets.SelectMany(s => s.Parameters).Where(p => !IsCommon(p.Name)).Select(p => p.Name).Distinct().ToList();
        foreach (var missing in parameters.Except(page.Parameters.Select(p => p.Name))) yield return $"{name} -{missing}: no section in the page's PARAMETERS.";
        foreach (var extra in page.Parameters.Select(p => p.Name).Except(parameters)) yield return $"{name} -{extra}: documented, but the cmdlet has no such parameter.";

        foreach (var documented in page.Parameters.Where(p => parameters.Contains(p.Name)))
        {
            var label = $"{name} -{documented.Name}";
            var inSets = cmdlet.ParameterSets.Where(s => s.Parameters.Any(p => p.Name == documented.Name)).ToList();
            var everySet = inSets.Count == cmdlet.ParameterSets.Count;
            foreach (var usage in documented.Usages)
            {
                var extraSets = usage.Sets.Except(inSets.Select(s => s.Name)).ToList();
                if (extraSets.Count > 0) yield return $"{label}: the page puts it in set(s) {string.Join(", ", extraSets)}, where the cmdlet has no such parameter.";
                if (usage.Sets.Count == 0 && !everySet) yield return $"{label}: the page says (All) sets, the cmdlet has it in {string.Join(", ", inSets.Select(s => s.Name))} only.";
            }

            foreach (var set in inSets)
            {
                var actual = set.Parameters.Single(p => p.Name == documented.Name);
                var usage = documented.Usages.FirstOrDefault(u => u.InSet(set.Name));
                var where = inSets.Count > 1 ? $" in set {set.Name}" : "";
                if (usage is null)
                {
                    yield return $"{label}: no yaml block covers set {set.Name}.";
                    continue;
                }

                if (usage.Type != TypeName(actual.ParameterType)) yield return $"{label}{where}: type is {TypeName(actual.ParameterType)}, the page says {usage.Type}.";
                if (usage.Required != actual.IsMandatory) yield return $"{label}{where}: mandatory is {actual.IsMandatory}, the page says Required: {usage.Required}.";
                var position = actual.Position == int.MinValue ? "Named" : actual.Position.ToString();
                if (usage.Position != position) yield return $"{label}{where}: position is {position}, the page says {usage.Position}.";
                var pipeline = Pipeline(actual);
                if (usage.PipelineInput != pipeline) yield return $"{label}{where}: pipeline input is '{pipeline}', the page says '{usage.PipelineInput}'.";
                if (!usage.Aliases.Order().SequenceEqual(actual.Aliases.Order())) yield return $"{label}{where}: aliases are [{string.Join(", ", actual.Aliases)}], the page says [{string.Join(", ", usage.Aliases)}].";
            }
        }
    }

    /// <summary>Common parameters have no section of their own; -WhatIf and -Confirm do, as platyPS writes them.</summary>
    private static bool IsCommon(string parameter) => PSCmdlet.CommonParameters.Contains(parameter) || parameter == "UseTransaction";

    /// <summary>The type as platyPS writes it: the short name, arrays with [], nullable as its value type.</summary>
    private static string TypeName(Type type) =>
        type.IsArray ? TypeName(type.GetElementType()!) + "[]"
        : Nullable.GetUnderlyingType(type) is { } value ? TypeName(value)
        : type.Name;

    private static string Pipeline(CommandParameterInfo parameter)
    {
        var ways = new List<string>();
        if (parameter.ValueFromPipelineByPropertyName) ways.Add("ByPropertyName");
        if (parameter.ValueFromPipeline) ways.Add("ByValue");
        return ways.Count == 0 ? "False" : $"True ({string.Join(", ", ways)})";
    }

    private static string Describe(IEnumerable<(string Name, bool IsDefault)> sets) =>
        "[" + string.Join(", ", sets.Select(s => s.IsDefault ? s.Name + " (Default)" : s.Name)) + "]";

    public void Dispose() => dir.Dispose();
}
