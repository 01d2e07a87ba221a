#Requires -Version 7.4
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
<#
    Pester 5 tests for pwsh users, offline (Local provider). Build first (./build.ps1), then run in a
    fresh process, since a loaded module assembly cannot be unloaded:
        pwsh -NoProfile -Command 'Invoke-Pester ./tests/Pester -Output Detailed'
    The same behaviours are covered on machines without pwsh by tests/SemanticCore.PowerShell.Tests.
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/SemanticCore.PS') -Force -ErrorAction Stop
    $script:Db = Join-Path $TestDrive 'index.db'
    New-Item -ItemType Directory (Join-Path $TestDrive 'kb') | Out-Null
    Set-Content (Join-Path $TestDrive 'kb/guide.md') "# Guide`n`nIntro text.`n`n## Install`n`nRun the installer.`n`n``````powershell`nInstall-Module SemanticCore.PS`n```````n"
    Set-Content (Join-Path $TestDrive 'kb/notes.txt') "First paragraph.`n`nSecond paragraph."
}

Describe 'Import-SemanticDocument' {
    It 'queues every chunk as Pending from Get-ChildItem output' {
        $results = Get-ChildItem (Join-Path $TestDrive 'kb') -File | Import-SemanticDocument -Database $Db -Provider Local -Mode Async
        $results | Should -HaveCount 2
        $results.Status | Should -Be @('Added', 'Added')
        ($results | Measure-Object Pending -Sum).Sum | Should -Be ($results | Measure-Object Chunks -Sum).Sum
    }

    It 'reports Unchanged on a second import' {
        (Import-SemanticDocument (Join-Path $TestDrive 'kb/guide.md') -Database $Db -Mode Async).Status | Should -Be 'Unchanged'
    }

    It 'gives a per-item error with a stable ErrorId for a missing file and goes on' {
        $out = 'missing.md', (Join-Path $TestDrive 'kb/notes.txt') | Import-SemanticDocument -Database $Db -Mode Async -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
    }
}

Describe 'The batch lifecycle on the Local provider' {
    It 'estimates, flushes and syncs to Ready' {
        (Invoke-BatchFlush -Database $Db -WhatIf).Chunks | Should -BeGreaterThan 0
        $job = Invoke-BatchFlush -Database $Db -Force
        $job.Status | Should -Be 'Submitted'
        ($job | Sync-BatchJob -Database $Db).Status | Should -Be 'Completed'
        (Get-ChunkStatus -Database $Db -Summary | Where-Object Status -eq 'Ready').Percent | Should -Be 100
    }
}

Describe 'Keys' {
    It 'refuses batch work on a Gemini index without a batch key' {
        $gemini = Join-Path $TestDrive 'gemini.db'
        Import-SemanticDocument (Join-Path $TestDrive 'kb/notes.txt') -Database $gemini -Mode Async | Out-Null
        $saved = $env:GEMINI_BATCH_API_KEY
        try {
            $env:GEMINI_BATCH_API_KEY = $null
            Set-SemanticKeyring -Clear
            { Invoke-BatchFlush -Database $gemini -Force } | Should -Throw -ErrorId 'BatchApiKeyMissing*'
        }
        finally {
            $env:GEMINI_BATCH_API_KEY = $saved
        }
    }
}

Describe 'Update-SemanticSchema' {
    It 'is a no-op on a current index' {
        (Update-SemanticSchema -Database $Db).Steps | Should -BeNullOrEmpty
    }
}

Describe 'Search-SemanticIndex' {
    It 'finds the chunk of an exact phrase first, in every mode' {
        foreach ($mode in 'Hybrid', 'Semantic', 'Keyword') {
            $hit = Search-SemanticIndex 'Run the installer' -Mode $mode -Database $Db -Top 1
            $hit.Content | Should -Match 'Run the installer'
            $hit.Section | Should -Be 'Guide > Install'
        }
    }

    It 'answers lines from Get-Content, and hits pipe into Get-ChunkStatus' {
        Set-Content (Join-Path $TestDrive 'questions.txt') "installer`nsecond paragraph"
        $hits = Get-Content (Join-Path $TestDrive 'questions.txt') | Search-SemanticIndex -Database $Db -Top 1
        $hits.Query | Should -Be @('installer', 'second paragraph')
        ($hits | Get-ChunkStatus).Id | Should -Be $hits.ChunkId
    }

    It 'searches hostile text as words and rejects a query without words by ErrorId' {
        { Search-SemanticIndex '"installer AND (guide OR * -:' -Database $Db -ErrorAction Stop } | Should -Not -Throw
        { Search-SemanticIndex '?!' -Database $Db -ErrorAction Stop } | Should -Throw -ErrorId 'SearchQueryEmpty,SemanticCore.PowerShell.SearchSemanticIndexCommand'
    }

    It 'fits its default view in 80 columns' {
        $lines = Search-SemanticIndex 'installer' -Database $Db | Out-String -Width 80 -Stream
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $lines -match 'guide\.md' | Should -Not -BeNullOrEmpty
    }
}
