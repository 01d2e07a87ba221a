#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the SemanticCore.PS module into out/SemanticCore.PS/<version>/ and, with -Test, runs the tests.
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    ./build.ps1; Import-Module ./out/SemanticCore.PS
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

# The layout (manifest, cmdlets, dependencies/, native SQLite) is an MSBuild step of the cmdlet project,
# so `dotnet build` alone produces the same module on machines without pwsh.
dotnet build src/SemanticCore.PowerShell -c $Configuration
if ($LASTEXITCODE) { throw "Build failed ($LASTEXITCODE)." }

if ($Test) {
    dotnet test SemanticCore.PS.sln -c $Configuration
    if ($LASTEXITCODE) { throw "Tests failed ($LASTEXITCODE)." }
}
