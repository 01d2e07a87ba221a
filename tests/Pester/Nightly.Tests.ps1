#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# examples/nightly.ps1, run as a scheduler runs it, night after night, on the Local provider (offline).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $nightly = Join-Path $PSScriptRoot '../../examples/nightly.ps1'
}

Describe 'The nightly runbook' {
    BeforeAll {
        $kb = New-TestKnowledgeBase
        $db = Join-Path $TestDrive 'index.db'
        # Not there yet on the first night: the backup creates it.
        $backups = Join-Path $TestDrive 'backups/kb'
    }

    It 'forecasts the first night under -WhatIf without creating the index' {
        $forecast = & $nightly -Folder $kb -Database $db -Provider Local -WhatIf

        $forecast.Added | Should -Be 2
        $forecast.WhatIf | Should -BeTrue
        $db | Should -Not -Exist
    }

    It 'imports the folder and submits its chunks on the first night' {
        $night = & $nightly -Folder $kb -Database $db -Provider Local -BackupFolder $backups

        $night.Added | Should -Be 2
        $night.IndexCreated | Should -BeTrue
        $night.JobsSubmitted | Should -Be 1
        $night.Healthy | Should -BeTrue
        $night.Problems.Count | Should -Be 0
        $night.Backup | Should -Exist
        Split-Path $night.Backup | Should -Be $backups
        (Get-ChunkStatus -Database $db -Status Submitted).Count | Should -Be $night.ChunksToEmbed
        $PSDefaultParameterValues.Keys | Should -Not -Contain '*:Database' -Because 'a runbook must not change its caller''s defaults'
    }

    It 'stores the results and mirrors the changes on the next night' {
        Remove-Item (Join-Path $kb 'notes.txt')
        Add-Content (Join-Path $kb 'guide.md') "`n## Uninstall`n`nRemove the module folder."

        # From the index's folder, with a relative -Database, as a scheduler's job often is.
        Push-Location $TestDrive
        try {
            $night = & $nightly -Folder $kb -Database index.db -Provider Local -BackupFolder $backups
        }
        finally {
            Pop-Location
        }

        $night.Database | Should -Be $db
        $night.IndexCreated | Should -BeFalse
        $night.JobsSynced | Should -Be 1
        $night.Cost30Days | Should -Be 0 -Because 'a Local index is free, and its jobs are in the ledger at no cost'
        $night.HeldBack | Should -BeNullOrEmpty
        $night.Updated | Should -Be 1
        $night.Removed | Should -Be 1
        $night.JobsSubmitted | Should -Be 1
        $night.Healthy | Should -BeTrue
        (Get-ChunkStatus -Database $db | Group-Object Status -AsHashTable -AsString).Keys | Sort-Object | Should -Be @('Ready', 'Submitted')
    }

    It 'reports a healthy night with an empty Problems array in its JSON' {
        $json = & $nightly -Folder $kb -Database $db -Provider Local | ConvertTo-Json -Depth 3

        $LASTEXITCODE | Should -Be 0
        $json | Should -Match '"Problems": \[\]'
        $json | Should -Match '"HeldBack": \[\]'
        $parsed = $json | ConvertFrom-Json -NoEnumerate
        $parsed.Problems.Count | Should -Be 0
        $parsed.Healthy | Should -BeTrue
    }

    It 'still writes its summary, with the failed step, and exits 1 when a step fails' {
        $file = Join-Path $TestDrive 'not-a-folder.txt'
        Set-Content $file 'a file where the backup folder should be'

        $night = & $nightly -Folder $kb -Database $db -Provider Local -BackupFolder (Join-Path $file 'backups') 3>$null

        $LASTEXITCODE | Should -Be 1
        $night | Should -Not -BeNullOrEmpty
        $night.Healthy | Should -BeFalse
        $night.Backup | Should -BeNullOrEmpty
        $night.Problems.Count | Should -Be 1 -Because 'the steps after the backup still run, and the index is healthy'
        $night.Problems[0].Step | Should -Be 'Backup'
        $night.Problems[0].Name | Should -Be 'BackupFailed'
        $night.Problems[0].Message | Should -BeLike "*'$file' is a file, not a folder."
        $night.Database | Should -Be $db
    }

    It 'exits 1 and names the rule when the index is unhealthy' {
        # A document imported from elsewhere whose file is gone: the mirror of $kb leaves it alone, the health check doesn't.
        $stray = Join-Path $TestDrive 'stray.md'
        Set-Content $stray "# Stray`n`nImported by hand."
        Import-SemanticDocument $stray -Database $db -Mode Async | Out-Null
        Remove-Item $stray

        $night = & $nightly -Folder $kb -Database $db -Provider Local 3>$null

        $LASTEXITCODE | Should -Be 1
        $night.Healthy | Should -BeFalse
        $night.Problems.Step | Should -Be 'Health'
        $night.Problems.Name | Should -Be 'MissingSources'
    }
}
