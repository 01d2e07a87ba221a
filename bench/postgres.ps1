# Runs the bench with a PostgreSQL server for its side-by-side scenario: starts a throwaway cluster (tests/postgres/TestCluster.ps1:
# initdb and pg_ctl on a free loopback port in a temporary folder), runs the bench with $env:SEMANTICCORE_BENCH_POSTGRES set to it,
# and stops and deletes the cluster, whatever happened. Arguments go to the bench (default: backends).
#   dotnet src/SemanticCore.Host/bin/Release/net10.0/SemanticCore.Host.dll -NoProfile -File bench/postgres.ps1 backends
#   dotnet src/SemanticCore.Host/bin/Release/net10.0/SemanticCore.Host.dll -NoProfile -File bench/postgres.ps1 all --quick
param([Parameter(ValueFromRemainingArguments)] [string[]] $BenchArguments = @('backends'))

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
. (Join-Path $root 'tests/postgres/TestCluster.ps1')

$cluster = Start-TestCluster -Required
try {
    $env:SEMANTICCORE_BENCH_POSTGRES = $cluster.ConnectionString
    & dotnet run --project (Join-Path $root 'bench/SemanticCore.Bench') -c Release -- @BenchArguments
    $code = $LASTEXITCODE
}
finally {
    Remove-Item Env:SEMANTICCORE_BENCH_POSTGRES -ErrorAction Ignore
    Stop-TestCluster $cluster
}
exit $code
