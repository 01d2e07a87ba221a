#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestBackends.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'The batch lifecycle on the Local provider, on <Backend><Reason>' -ForEach (Get-TestBackend) {
    BeforeAll {
        if ($Skip) { return }
        $kb = New-TestKnowledgeBase
        $db = New-TestIndex $Backend
        Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Provider Local -Mode Async | Out-Null
    }

    It 'estimates a flush under -WhatIf without creating a job' -Skip:$Skip {
        $estimate = Invoke-BatchFlush -Database $db -Force -WhatIf

        $estimate.Chunks | Should -Be (Get-ChunkStatus -Database $db -Status Pending).Count
        $estimate.EstimatedTokens | Should -BeGreaterThan 0
        Get-BatchJob -Database $db | Should -BeNullOrEmpty
    }

    It 'flushes the Pending chunks into one Submitted job' -Skip:$Skip {
        $job = Invoke-BatchFlush -Database $db -Force

        $job.PSTypeNames | Should -Contain 'SemanticCore.Model.BatchJob'
        $job.Status | Should -Be 'Submitted'
        (Get-ChunkStatus -Database $db | Group-Object BatchJobId).Name | Should -Be $job.Id
    }

    It 'syncs the active job to Completed and every chunk to Ready' -Skip:$Skip {
        $synced = Get-BatchJob -Database $db -Active | Sync-BatchJob -Database $db

        $synced.Status | Should -Be 'Completed'
        $synced.Failed | Should -Be 0
        $summary = Get-ChunkStatus -Database $db -Summary
        ($summary | Where-Object Status -eq 'Ready').Percent | Should -Be 100
        (Get-ChunkStatus -Database $db | Where-Object Status -ne 'Ready') | Should -BeNullOrEmpty
    }

    It 'records the synced job once in the spend ledger, at cost 0 on Local' -Skip:$Skip {
        Get-BatchJob -Database $db | Sync-BatchJob -Database $db | Out-Null
        $job = Get-BatchJob -Database $db

        $spend = Get-SemanticSpend -Database $db -Since (Get-Date).AddDays(-1)
        $spend.PSTypeNames | Should -Contain 'SemanticCore.Model.SpendDay'
        $spend.Kind | Should -Be 'Batch'
        $spend.Calls | Should -Be 1
        $spend.Tokens | Should -Be $job.Tokens
        $spend.Date | Should -Be ([datetime]::UtcNow.Date)
        ($spend | Measure-Object Cost -Sum).Sum | Should -Be 0
        Get-SemanticSpend -Database $db -Until (Get-Date).AddDays(-1) | Should -BeNullOrEmpty
    }

    It 'exports chunk status to CSV and JSON as plain data' -Skip:$Skip {
        $csv = Join-Path $TestDrive 'chunks.csv'
        Get-ChunkStatus -Database $db | Select-Object Id, Status, ChunkType, Language, DocumentPath | Export-Csv $csv

        $rows = Import-Csv $csv
        $rows.Count | Should -Be (Get-ChunkStatus -Database $db).Count
        $rows | Where-Object ChunkType -eq 'Code' | Select-Object -ExpandProperty Language | Should -Be 'powershell'

        $json = Get-BatchJob -Database $db | ConvertTo-Json -Depth 3 -EnumsAsStrings | ConvertFrom-Json
        $json.Status | Should -Be 'Completed'
        $json.Requests | Should -Be $rows.Count
    }
}

Describe 'Keys' {
    BeforeAll {
        $kb = New-TestKnowledgeBase
    }

    It 'refuses batch work on a Gemini index without a batch key, by ErrorId' {
        $gemini = Join-Path $TestDrive 'gemini.db'
        Import-SemanticDocument (Join-Path $kb 'notes.txt') -Database $gemini -Mode Async | Out-Null

        { Invoke-BatchFlush -Database $gemini -Force } | Should -Throw -ErrorId 'BatchApiKeyMissing,*'
        (Get-ChunkStatus -Database $gemini -Status Pending).Count | Should -BeGreaterThan 0
    }
}
