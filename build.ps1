#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, checks the help of, and packages the SemanticCore.PS module.
.DESCRIPTION
    Build    dotnet build of the solution: the module is laid out in out/SemanticCore.PS/<version>/,
             with its MAML help and about topic written from docs/en-US.
    Test     Build, then the xunit tests (dotnet test) and the Pester suite (tests/Pester) in a fresh
             pwsh process: the repository's host, pwsh 7.6 from Microsoft.PowerShell.SDK with Pester
             5.7.1 from NuGet. Both always run; the task fails when either fails. When PostgreSQL and
             pgvector are installed (tests/postgres/install.sh), the PostgreSQL tests run against a
             throwaway cluster started for the run; otherwise they are skipped, each saying why.
    Help     Build, then only the Pester help tests (Get-Help for every cmdlet and the about topic).
    Package  Build, then out/package/<module>/<version>/ (the folder Save-PSResource and
             Install-Module put on PSModulePath) and out/package/<module>.<version>.nupkg in the
             PowerShell Gallery's layout (module files at the package root, PSModule tags, README.md),
             for each module of -Module.
    Install  Build, then the same folders into your module folder (-Scope CurrentUser, the default) or
             the all-users one (-Scope AllUsers), replacing an earlier copy of this version, so that
             Import-Module SemanticCore.PS works by name in any pwsh 7.4+ (and -Provider Onnx imports
             SemanticCore.PS.Onnx when it needs it).
    Uninstall  Removes this version of each module of -Module from the folder Install writes to.
    Package and Install leave the debug symbols out and write CHANGELOG.md's section of this version
    into the manifest's ReleaseNotes.
    Without pwsh, the host runs this script:
        dotnet run --project src/SemanticCore.Host -c Release -- -File build.ps1 -Task Test
.PARAMETER Task
    One or more tasks, run in the order given. The default is Build.
.PARAMETER Configuration
    Release (the default) or Debug.
.PARAMETER Scope
    Install and Uninstall: CurrentUser (the default; ~/.local/share/powershell/Modules on Linux and macOS,
    Documents\PowerShell\Modules on Windows) or AllUsers (/usr/local/share/powershell/Modules, or
    $env:ProgramFiles\PowerShell\Modules on Windows; needs root or an administrator).
.PARAMETER Destination
    Install and Uninstall: a modules folder of your own instead of the scope's (the module goes to
    <Destination>/SemanticCore.PS/<version>/).
.PARAMETER Module
    Package, Install and Uninstall: SemanticCore.PS (the module) and SemanticCore.PS.Onnx (the companion
    module of the Onnx provider: sentence-embedding models on this machine, about 300 MB), both by default.
.PARAMETER NoBuild
    Use the module already built in out/ instead of building first.
.EXAMPLE
    ./build.ps1 -Task Install
    Builds and installs for the current user; then Import-Module SemanticCore.PS in any pwsh session.
.EXAMPLE
    ./build.ps1 -Task Install -Module SemanticCore.PS
    Installs the module without the Onnx companion (-Provider Onnx then says how to get it).
.EXAMPLE
    ./build.ps1 -Task Test
.EXAMPLE
    ./build.ps1 -Task Package
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Help', 'Package', 'Install', 'Uninstall')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [ValidateSet('CurrentUser', 'AllUsers')]
    [string] $Scope = 'CurrentUser',

    [string] $Destination,

    [ValidateSet('SemanticCore.PS', 'SemanticCore.PS.Onnx')]
    [string[]] $Module = @('SemanticCore.PS', 'SemanticCore.PS.Onnx'),

    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
# -Destination follows the caller's location (and ~), not the repository's, where the tasks run.
if ($Destination) { $Destination = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Destination) }
Push-Location $PSScriptRoot
try {
    $manifest = Import-PowerShellDataFile module/SemanticCore.PS.psd1
    $version = $manifest.ModuleVersion
    $builtModule = Join-Path $PSScriptRoot "out/SemanticCore.PS/$version"
    # Built and released together: the companion requires this very version of the module.
    $companion = Import-PowerShellDataFile src/SemanticCore.PS.Onnx/module/SemanticCore.PS.Onnx.psd1
    if ($companion.ModuleVersion -ne $version) { throw "SemanticCore.PS.Onnx is $($companion.ModuleVersion), SemanticCore.PS ${version}: give both manifests the same version." }

    function Invoke-Native([string] $What, [scriptblock] $Command) {
        Write-Verbose "$What`: $Command"
        & $Command
        if ($LASTEXITCODE) { throw "$What failed (exit code $LASTEXITCODE)." }
    }

    function Invoke-Build {
        if ($NoBuild) { return }
        Invoke-Native 'Build' { dotnet build SemanticCore.PS.sln -c $Configuration }
    }

    # Pester in its own process: a loaded module assembly cannot be unloaded, so each run starts clean.
    # SEMANTICCORE_TEST_MODULE makes the suite test this build rather than an installed copy.
    function Invoke-PesterSuite([string] $Path) {
        $hostDll = Join-Path $PSScriptRoot "src/SemanticCore.Host/bin/$Configuration/net10.0/SemanticCore.Host.dll"
        $run = "`$c = New-PesterConfiguration; `$c.Run.Path = '$Path'; `$c.Run.Exit = `$true; `$c.Output.Verbosity = 'Detailed'; Invoke-Pester -Configuration `$c"
        $env:SEMANTICCORE_TEST_MODULE = Join-Path $PSScriptRoot 'out/SemanticCore.PS'
        try {
            dotnet $hostDll -NoProfile -NonInteractive -Command $run | Out-Host
            $LASTEXITCODE
        }
        finally {
            Remove-Item Env:SEMANTICCORE_TEST_MODULE
        }
    }

    # The modules folder pwsh itself puts on PSModulePath for the scope.
    function Get-ModulesFolder {
        if ($Destination) { return $Destination }
        if ($IsWindows) {
            if ($Scope -eq 'AllUsers') { return Join-Path $env:ProgramFiles 'PowerShell/Modules' }
            return Join-Path ([Environment]::GetFolderPath('MyDocuments')) 'PowerShell/Modules'
        }
        if ($Scope -eq 'AllUsers') { return '/usr/local/share/powershell/Modules' }
        $data = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
        Join-Path $data 'powershell/Modules'
    }

    # The lines of CHANGELOG.md under this version's heading ("## [0.4.0] - date"), up to the next heading of its level.
    function Get-ReleaseNotes {
        $lines = Get-Content (Join-Path $PSScriptRoot 'CHANGELOG.md')
        $start = [array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match "^## \[$([regex]::Escape($version))\]" })
        if ($start -lt 0) { throw "CHANGELOG.md has no section for $version (a '## [$version] - date' heading)." }
        $end = [array]::FindIndex($lines, $start + 1, [Predicate[string]] { param($l) $l -match '^## ' })
        if ($end -lt 0) { $end = $lines.Count }
        ($lines[($start + 1)..($end - 1)] -join "`n").Trim()
    }

    # This build of a module as Install-Module lays it out: <Modules>/<Name>/<version>/, replacing an earlier
    # copy of this version, without debug symbols, with the licence and this version's release notes.
    function Copy-ModuleTo([string] $Modules, [string] $Name) {
        $folder = Join-Path $Modules "$Name/$version"
        if (Test-Path -LiteralPath $folder) {
            # A copy loaded in a running pwsh keeps its dll locked (Windows): say so rather than leave half a module.
            try { Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Stop }
            catch { throw "Could not replace $folder ($($_.Exception.Message)). Close the pwsh sessions that have $Name $version loaded, then run the task again." }
        }
        New-Item -ItemType Directory $folder -Force | Out-Null
        Copy-Item (Join-Path $PSScriptRoot "out/$Name/$version/*") $folder -Recurse
        Get-ChildItem $folder -Recurse -Filter *.pdb | Remove-Item
        Copy-Item LICENSE $folder
        # A single-quoted here-string keeps the notes' '$' and quotes as they are; the manifest stays a data file.
        $manifestPath = Join-Path $folder "$Name.psd1"
        $text = Get-Content -Raw $manifestPath
        $psData = $text.IndexOf("`n", $text.IndexOf('PSData = @{')) + 1
        Set-Content $manifestPath $text.Insert($psData, "            ReleaseNotes = @'`n$(Get-ReleaseNotes)`n'@`n") -NoNewline
        $folder
    }

    foreach ($step in $Task) {
        switch ($step) {
            'Build' {
                Invoke-Build
            }
            'Test' {
                Invoke-Build
                # The PostgreSQL tests get a throwaway cluster of their own; without PostgreSQL and pgvector they are
                # skipped (each says why), unless $env:SEMANTICCORE_TEST_POSTGRES_REQUIRED is 1 (CI).
                . (Join-Path $PSScriptRoot 'tests/postgres/TestCluster.ps1')
                $cluster = Start-TestCluster -Required:($env:SEMANTICCORE_TEST_POSTGRES_REQUIRED -eq '1')
                if ($cluster) { $env:SEMANTICCORE_TEST_POSTGRES = $cluster.ConnectionString }
                try {
                    dotnet test SemanticCore.PS.sln -c $Configuration --no-build
                    $xunit = $LASTEXITCODE
                    $pester = Invoke-PesterSuite (Join-Path $PSScriptRoot 'tests/Pester')
                }
                finally {
                    Stop-TestCluster $cluster
                    if ($cluster) { Remove-Item Env:SEMANTICCORE_TEST_POSTGRES }
                }
                if ($xunit -or $pester) { throw "Tests failed (xunit exit code $xunit, Pester failures $pester)." }
            }
            'Help' {
                Invoke-Build
                $failures = Invoke-PesterSuite (Join-Path $PSScriptRoot 'tests/Pester/Help.Tests.ps1')
                if ($failures) { throw "$failures help test(s) failed." }
                Get-ChildItem (Join-Path $builtModule 'en-US') | Select-Object FullName, Length
            }
            'Package' {
                Invoke-Build
                $packages = Join-Path $PSScriptRoot 'out/package'
                Remove-Item $packages -Recurse -Force -ErrorAction Ignore
                foreach ($name in $Module) {
                    $folder = Copy-ModuleTo $packages $name
                    $data = Import-PowerShellDataFile (Join-Path $folder "$name.psd1")
                    $cmdlets = @($data.CmdletsToExport)
                    $tags = @('PSModule') + $(if ($cmdlets) { 'PSIncludes_Cmdlet' }) + $data.PrivateData.PSData.Tags +
                        ($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })
                    $properties = @{
                        id          = $name
                        version     = $version
                        authors     = $data.Author
                        description = $data.Description
                        copyright   = $data.Copyright
                        projectUrl  = $data.PrivateData.PSData.ProjectUri
                        tags        = $tags -join ' '
                        moduleDir   = $folder
                        readme      = Join-Path $PSScriptRoot 'README.md'
                    }
                    $nuspecProperties = ($properties.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value -replace ';', '%3B')" }) -join ';'
                    Invoke-Native "Package $name" {
                        dotnet pack build/SemanticCore.PS.Package.csproj -c $Configuration -o $packages "-p:NuspecProperties=`"$nuspecProperties`"" "-p:PackageId=$name"
                    }
                    [pscustomobject]@{ Folder = $folder; Package = (Get-ChildItem $packages -Filter "$name.$version.nupkg").FullName }
                }
            }
            'Install' {
                Invoke-Build
                $modules = Get-ModulesFolder
                foreach ($name in $Module) {
                    $folder = Copy-ModuleTo $modules $name
                    Write-Host "$name $version installed in $folder"
                }
                $onPath = $env:PSModulePath -split [IO.Path]::PathSeparator | Where-Object { $_.TrimEnd('/', '\') -eq $modules.TrimEnd('/', '\') }
                if (-not $onPath) { Write-Warning "$modules is not on `$env:PSModulePath: add it there for Import-Module SemanticCore.PS to find the module by name." }
            }
            'Uninstall' {
                $modules = Get-ModulesFolder
                foreach ($name in $Module) {
                    $folder = Join-Path $modules "$name/$version"
                    if (-not (Test-Path $folder)) {
                        Write-Warning "$name $version is not installed in $modules."
                        continue
                    }
                    Remove-Item $folder -Recurse -Force
                    # The module's own folder goes too once no other version is left in it.
                    $parent = Split-Path $folder
                    if (-not (Get-ChildItem $parent -Force)) { Remove-Item $parent }
                    Write-Host "$name $version removed from $modules"
                }
            }
        }
    }
}
finally {
    Pop-Location
}
