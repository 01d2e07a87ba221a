# Dot-sourced by TestSetup.ps1 and, for -ForEach at discovery, by the BeforeDiscovery of the suites that run on both backends.
# The backends a behaviour test that uses only cmdlets runs on (Describe ... -ForEach (Get-TestBackend)): SQLite always,
# PostgreSQL when the README's test command started a cluster; without one its tests are skipped, the name saying why.
function Get-TestBackend {
    $reason = if (-not $env:SEMANTICCORE_TEST_POSTGRES) { ' (skipped: no PostgreSQL test cluster, $env:SEMANTICCORE_TEST_POSTGRES is not set)' }
    @{ Backend = 'Sqlite'; Skip = $false; Reason = '' }
    @{ Backend = 'Postgres'; Skip = [bool]$reason; Reason = "$reason" }
}

# A new, empty index on the backend: a file in $TestDrive, or a fresh schema in the test cluster.
function New-TestIndex([string] $Backend) {
    $name = [guid]::NewGuid().ToString('N')
    if ($Backend -eq 'Postgres') { "$env:SEMANTICCORE_TEST_POSTGRES;Search Path=t_$name" } else { Join-Path $TestDrive "index-$name.db" }
}
