<#
.SYNOPSIS
    The SemanticCore.PS quick start: index the example knowledge base offline, show its status and search it.
.DESCRIPTION
    Uses the Local provider (lexical feature hashing, no key, no network) in a fresh index under the
    system's temp directory, so it can run anywhere, any number of times.
#>
param(
    [string] $Database = (Join-Path ([System.IO.Path]::GetTempPath()) "semanticcore-quickstart-$PID.db")
)

$ErrorActionPreference = 'Stop'
Import-Module SemanticCore.PS

Write-Host "Index: $Database"
Write-Host "`nImporting the example knowledge base (queued as Pending for a batch job):"
Import-SemanticDocument -Path "$PSScriptRoot/kb/*" -Database $Database -Provider Local -Mode Async | Out-Default

Write-Host "`nRe-importing: unchanged files write nothing."
Import-SemanticDocument -Path "$PSScriptRoot/kb/*" -Database $Database -Mode Async | Out-Default

Write-Host "`nCode chunks and their languages:"
Get-ChunkStatus -Database $Database | Where-Object ChunkType -eq 'Code' | Out-Default

Write-Host "`nWhat a flush would send, and cost on Gemini's batch price vs interactive (Local is free):"
Invoke-BatchFlush -Database $Database -WhatIf | Out-Default

Write-Host "`nFlush: the Pending chunks go to a batch job (on the Local provider it runs offline)."
Invoke-BatchFlush -Database $Database | Out-Default

Write-Host "`nSync: the finished job's vectors are stored and its chunks become Ready."
Get-BatchJob -Database $Database -Active | Sync-BatchJob -Database $Database -Wait -PollInterval 1 | Out-Default

Write-Host "`nStatus summary:"
Get-ChunkStatus -Database $Database -Summary | Out-Default


Write-Host "`nSearch: a question in your own words, answered from the index (keywords and meaning fused):"
Search-SemanticIndex -Database $Database 'when can I delete the old batch key' -Top 3 | Out-Default

Write-Host "The best hit, whole, with its place in the document:"
$best = Search-SemanticIndex -Database $Database 'when can I delete the old batch key' -Top 1
Write-Host "$($best.DocumentPath) > $($best.Section)`n$($best.Content)"
