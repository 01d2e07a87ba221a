#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestBackends.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Search-SemanticIndex on <Backend><Reason>' -ForEach (Get-TestBackend) {
    BeforeAll {
        if ($Skip) { return }
        $kb = New-TestKnowledgeBase
        $db = New-TestIndex $Backend
        Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Provider Local -Mode Sync | Out-Null
    }

    It 'finds the chunk of an exact phrase first, in every mode' -Skip:$Skip -ForEach @(
        @{ Mode = 'Hybrid' }, @{ Mode = 'Semantic' }, @{ Mode = 'Keyword' }
    ) {
        $hit = Search-SemanticIndex 'Run the installer' -Mode $Mode -Database $db -Top 1

        $hit.PSTypeNames | Should -Contain 'SemanticCore.Model.SearchHit'
        $hit.Content | Should -Match 'Run the installer'
        $hit.Section | Should -Be 'Guide > Install'
    }

    It 'answers questions from Get-Content and Import-Csv, and hits pipe into Get-ChunkStatus' -Skip:$Skip {
        Set-Content (Join-Path $TestDrive 'questions.txt') "installer`nstorage quotas"
        $hits = Get-Content (Join-Path $TestDrive 'questions.txt') | Search-SemanticIndex -Database $db -Top 1
        $hits.Query | Should -Be @('installer', 'storage quotas')
        ($hits | Get-ChunkStatus).Id | Should -Be $hits.ChunkId

        [pscustomobject]@{ Query = 'rotate the batch key' } | Export-Csv (Join-Path $TestDrive 'q.csv')
        (Import-Csv (Join-Path $TestDrive 'q.csv') | Search-SemanticIndex -Database $db -Top 1).Section | Should -Be 'Guide > Rotate keys'
    }

    It 'filters hits with Where-Object like any objects' -Skip:$Skip {
        $code = Search-SemanticIndex 'Install-Module' -Database $db | Where-Object ChunkType -eq 'Code'

        $code | Should -Not -BeNullOrEmpty
        $code.Language | Select-Object -Unique | Should -Be 'powershell'
    }

    It 'searches hostile text as words and rejects a query without words by ErrorId' -Skip:$Skip {
        { Search-SemanticIndex '"installer AND (guide OR * -:' -Database $db -ErrorAction Stop } | Should -Not -Throw
        { Search-SemanticIndex '?!' -Database $db -ErrorAction Stop } | Should -Throw -ErrorId 'SearchQueryEmpty,*'
    }

    It 'fits its default view in 80 columns' -Skip:$Skip {
        $lines = Search-SemanticIndex 'installer' -Database $db | Out-String -Width 80 -Stream

        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $lines -match 'guide\.md' | Should -Not -BeNullOrEmpty
    }
}
