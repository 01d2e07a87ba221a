#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# SQLite only: these tests are about files (paths from Get-ChildItem, a -WhatIf that must create no file, a file that is
# not an index); the PostgreSQL import is covered by tests/SemanticCore.PowerShell.Tests/PostgresCmdletTests.cs.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Import-SemanticDocument' {
    BeforeAll {
        $kb = New-TestKnowledgeBase
        $db = Join-Path $TestDrive 'index.db'
    }

    It 'queues every chunk as Pending from Get-ChildItem output' {
        $results = Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Provider Local -Mode Async

        $results | Should -HaveCount 2
        $results | ForEach-Object { $_.PSTypeNames[0] | Should -Be 'SemanticCore.Model.ImportResult' }
        $results.Status | Should -Be @('Added', 'Added')
        ($results | Measure-Object Pending -Sum).Sum | Should -Be ($results | Measure-Object Chunks -Sum).Sum
    }

    It 'reports Unchanged on a second import' {
        $again = Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Mode Async

        $again.Status | Should -Be @('Unchanged', 'Unchanged')
        $again | Where-Object Added -gt 0 | Should -BeNullOrEmpty
    }

    It 'updates only the changed file, keeping its unchanged chunks' {
        Add-Content -LiteralPath (Join-Path $kb 'guide.md') -Value "`n## Uninstall`n`nRemove the module folder."
        $byStatus = Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Mode Async |
            Group-Object Status -AsHashTable -AsString

        $byStatus['Unchanged'].Path | Should -BeLike '*notes.txt'
        $byStatus['Updated'].Path | Should -BeLike '*guide.md'
        $byStatus['Updated'].Kept | Should -BeGreaterThan 0
        $byStatus['Updated'].Added | Should -BeGreaterThan 0
    }

    It 'gives one error per bad file, with a stable ErrorId, and goes on with the next' {
        $bad = New-Item -ItemType Directory (Join-Path $TestDrive 'bad') -Force
        Set-Content (Join-Path $bad 'empty.md') -Value '' -NoNewline
        [System.IO.File]::WriteAllBytes((Join-Path $bad 'image.md'), [byte[]](0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 13, 0, 1))
        Set-Content (Join-Path $bad 'fine.md') -Value "# Fine`n`nThis one imports."

        $out = 'missing.md', 'empty.md', 'image.md', 'fine.md' | ForEach-Object { Join-Path $bad $_ } |
            Import-SemanticDocument -Database $db -Mode Async -ErrorVariable problems -ErrorAction SilentlyContinue

        $out.Path | Should -BeLike '*fine.md'
        $problems.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Should -Be @('PathNotFound', 'EmptyFile', 'BinaryFile')
        $problems.TargetObject | Should -Be @('missing.md', 'empty.md', 'image.md' | ForEach-Object { Join-Path $bad $_ })
    }

    It 'creates no index under -WhatIf' {
        $whatIf = Join-Path $TestDrive 'whatif.db'
        Get-ChildItem $kb -File | Import-SemanticDocument -Database $whatIf -Provider Local -WhatIf

        $whatIf | Should -Not -Exist
    }

    It 'refuses a file that is not an index, by ErrorId, and leaves it untouched' {
        $notIndex = Join-Path $TestDrive 'notes.db'
        Set-Content $notIndex 'not a database'

        { Get-ChunkStatus -Database $notIndex } | Should -Throw -ErrorId 'NotADatabase,*'
        { Import-SemanticDocument (Join-Path $kb 'guide.md') -Database $notIndex } | Should -Throw -ErrorId 'NotADatabase,*'
        Get-Content $notIndex | Should -Be 'not a database'
    }
}

Describe 'Update-SemanticSchema' {
    BeforeAll {
        $kb = New-TestKnowledgeBase
    }

    It 'is a no-op on a current index' {
        $db = Join-Path $TestDrive 'current.db'
        Import-SemanticDocument (Join-Path $kb 'guide.md') -Database $db -Provider Local -Mode Async | Out-Null

        $result = Update-SemanticSchema -Database $db
        $result.Steps | Should -BeNullOrEmpty
        $result.FromVersion | Should -Be $result.ToVersion
    }
}
