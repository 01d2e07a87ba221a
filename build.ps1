#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, checks the help of, and packages the SemanticCore.PS module.
.DESCRIPTION
    Build    dotnet build of the solution: the module is laid out in out/SemanticCore.PS/<version>/,
             with its MAML help and about topic written from docs/en-US.
    Test     Build, then the xunit tests (dotnet test) and the Pester suite (tests/Pester) in a fresh
             pwsh process: the repository's host, pwsh 7.6 from Microsoft.PowerShell.SDK with Pester
             5.7.1 from NuGet. Both always run; the task fails when either fails.
    Help     Build, then only the Pester help tests (Get-Help for every cmdlet and the about topic).
    Package  Build, then out/package/SemanticCore.PS/<version>/ (the folder Save-PSResource and
             Install-Module put on PSModulePath) and out/package/SemanticCore.PS.<version>.nupkg in the
             PowerShell Gallery's layout (module files at the package root, PSModule tags).
    Without pwsh, the host runs this script:
        dotnet run --project src/SemanticCore.Host -c Release -- -File build.ps1 -Task Test
.PARAMETER Task
    One or more tasks, run in the order given. The default is Build.
.PARAMETER Configuration
    Release (the default) or Debug.
.EXAMPLE
    ./build.ps1 -Task Test
.EXAMPLE
    ./build.ps1 -Task Package
    Copy-Item -Recurse out/package/SemanticCore.PS ($env:PSModulePath -split [IO.Path]::PathSeparator)[0]
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Help', 'Package')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Push-Location $PSScriptRoot
try {
    $manifest = Import-PowerShellDataFile module/SemanticCore.PS.psd1
    $version = $manifest.ModuleVersion
    $module = Join-Path $PSScriptRoot "out/SemanticCore.PS/$version"

    function Invoke-Native([string] $What, [scriptblock] $Command) {
        Write-Verbose "$What`: $Command"
        & $Command
        if ($LASTEXITCODE) { throw "$What failed (exit code $LASTEXITCODE)." }
    }

    function Invoke-Build {
        Invoke-Native 'Build' { dotnet build SemanticCore.PS.sln -c $Configuration }
    }

    # Pester in its own process: a loaded module assembly cannot be unloaded, so each run starts clean.
    function Invoke-PesterSuite([string] $Path) {
        $hostDll = Join-Path $PSScriptRoot "src/SemanticCore.Host/bin/$Configuration/net10.0/SemanticCore.Host.dll"
        $run = "`$c = New-PesterConfiguration; `$c.Run.Path = '$Path'; `$c.Run.Exit = `$true; `$c.Output.Verbosity = 'Detailed'; Invoke-Pester -Configuration `$c"
        dotnet $hostDll -NoProfile -NonInteractive -Command $run | Out-Host
        $LASTEXITCODE
    }

    foreach ($step in $Task) {
        switch ($step) {
            'Build' {
                Invoke-Build
            }
            'Test' {
                Invoke-Build
                dotnet test SemanticCore.PS.sln -c $Configuration --no-build
                $xunit = $LASTEXITCODE
                $pester = Invoke-PesterSuite (Join-Path $PSScriptRoot 'tests/Pester')
                if ($xunit -or $pester) { throw "Tests failed (xunit exit code $xunit, Pester failures $pester)." }
            }
            'Help' {
                Invoke-Build
                $failures = Invoke-PesterSuite (Join-Path $PSScriptRoot 'tests/Pester/Help.Tests.ps1')
                if ($failures) { throw "$failures help test(s) failed." }
                Get-ChildItem (Join-Path $module 'en-US') | Select-Object FullName, Length
            }
            'Package' {
                Invoke-Build
                $packages = Join-Path $PSScriptRoot 'out/package'
                $folder = Join-Path $packages "SemanticCore.PS/$version"
                Remove-Item $packages -Recurse -Force -ErrorAction Ignore
                New-Item -ItemType Directory $folder | Out-Null
                Copy-Item (Join-Path $module '*') $folder -Recurse
                Copy-Item LICENSE $folder
                $cmdlets = $manifest.CmdletsToExport
                $tags = @('PSModule', 'PSIncludes_Cmdlet') + $manifest.PrivateData.PSData.Tags +
                    ($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })
                $properties = @{
                    id          = 'SemanticCore.PS'
                    version     = $version
                    authors     = $manifest.Author
                    description = $manifest.Description
                    copyright   = $manifest.Copyright
                    projectUrl  = $manifest.PrivateData.PSData.ProjectUri
                    tags        = $tags -join ' '
                    moduleDir   = $folder
                }
                $nuspecProperties = ($properties.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value -replace ';', '%3B')" }) -join ';'
                Invoke-Native 'Package' {
                    dotnet pack build/SemanticCore.PS.Package.csproj -c $Configuration -o $packages "-p:NuspecProperties=`"$nuspecProperties`""
                }
                [pscustomobject]@{ Folder = $folder; Package = (Get-ChildItem $packages -Filter *.nupkg).FullName }
            }
        }
    }
}
finally {
    Pop-Location
}
