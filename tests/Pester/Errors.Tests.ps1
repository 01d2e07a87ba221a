#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

# The error handling the docs promise to runbook authors, in the forms the docs show.

# SQLite only: two of these errors come from files (a newer schema written into the file header, a missing path), and the
# others' PostgreSQL runs (IndexSettingsConflict, per-item PathNotFound) are in tests/SemanticCore.PowerShell.Tests/PostgresCmdletTests.cs.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
}

Describe 'Errors runbooks can test' {
    BeforeAll {
        $kb = New-TestKnowledgeBase
        $db = Join-Path $TestDrive 'index.db'
        Get-ChildItem $kb -File | Import-SemanticDocument -Database $db -Provider Local -Mode Async | Out-Null
    }

    It 'refuses an index written by a newer module with SchemaTooNew, as about_SemanticCore.PS shows' {
        $newer = Join-Path $TestDrive 'newer.db'
        Import-SemanticDocument (Join-Path $kb 'guide.md') -Database $newer -Provider Local -Mode Async | Out-Null
        # PRAGMA user_version is the big-endian integer at offset 60 of the file's header: a future schema.
        $bytes = [System.IO.File]::ReadAllBytes($newer)
        $bytes[60], $bytes[61], $bytes[62], $bytes[63] = 0, 0, 0, 99
        [System.IO.File]::WriteAllBytes($newer, $bytes)

        { Get-ChunkStatus -Database $newer } | Should -Throw -ErrorId 'SchemaTooNew,*'
        try { Get-ChunkStatus -Database $newer } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId -like 'SchemaTooNew,*' | Should -BeTrue
        $caught.ErrorDetails.RecommendedAction | Should -Match 'Update the SemanticCore.PS module'
    }

    It 'refuses settings that would mix vectors with IndexSettingsConflict, as Import-SemanticDocument shows' {
        { Import-SemanticDocument (Join-Path $kb 'guide.md') -Database $db -Provider Gemini } | Should -Throw -ErrorId 'IndexSettingsConflict,*'
    }

    It 'follows -ErrorAction Ignore and SilentlyContinue for per-item errors, as built-in cmdlets do' {
        $missing = Join-Path $TestDrive 'missing.md'
        $Error.Clear()

        $ignored = $missing, (Join-Path $kb 'notes.txt') | Import-SemanticDocument -Database $db -ErrorAction Ignore
        $ignored | Should -HaveCount 1
        $Error.Count | Should -Be 0

        $silent = $missing | Import-SemanticDocument -Database $db -ErrorAction SilentlyContinue -ErrorVariable problems
        $silent | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        $problems[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $Error.Count | Should -Be 1
    }

    It 'stops the command for a terminating error whatever -ErrorAction says, and try/catch catches it' {
        $nowhere = Join-Path $TestDrive 'nowhere.db'
        { Get-ChunkStatus -Database $nowhere -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'DatabaseNotFound,*'
        $nowhere | Should -Not -Exist
    }
}
