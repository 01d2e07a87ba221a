# A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl in a temporary folder, on a free loopback port,
# with a random password, stopped and deleted at the end. Tests never use a server they did not start.

# The server's programs (initdb, pg_ctl) and whether pgvector is installed for them; a reason when something is missing.
function Find-PostgresServer {
    $candidates = @(Get-Command initdb -CommandType Application -ErrorAction Ignore | ForEach-Object { Split-Path $_.Source }) +
        @(Get-ChildItem /usr/lib/postgresql/*/bin -Directory -ErrorAction Ignore | Sort-Object { [int]($_.Parent.Name -replace '\D', '') } -Descending | ForEach-Object FullName)
    foreach ($bin in $candidates) {
        $initdb = Join-Path $bin 'initdb'
        if (-not (Test-Path $initdb)) { continue }
        # initdb may be a symbolic link into the server's folder: follow it to find pg_config's libraries.
        $real = (Get-Item $initdb).ResolvedTarget
        if ($real) { $bin = Split-Path $real }
        $pgConfig = Join-Path $bin 'pg_config'
        $libdir = if (Test-Path $pgConfig) { & $pgConfig --pkglibdir } else { Join-Path (Split-Path $bin) 'lib' }
        if (-not (Test-Path (Join-Path $libdir 'vector.so'))) {
            return [pscustomobject]@{ Bin = $bin; Reason = "pgvector is not installed for the PostgreSQL in $bin (tests/postgres/install.sh installs it)" }
        }
        return [pscustomobject]@{ Bin = $bin; Reason = $null }
    }
    [pscustomobject]@{ Bin = $null; Reason = 'PostgreSQL is not installed (no initdb; tests/postgres/install.sh installs PostgreSQL 15 and pgvector)' }
}

# Starts a cluster and returns its connection string and folder; $null (with the reason on the host) when the server
# is not installed, unless -Required, which makes that an error.
function Start-TestCluster([switch] $Required) {
    $server = Find-PostgresServer
    if ($server.Reason) {
        if ($Required) { throw "PostgreSQL tests are required but cannot run: $($server.Reason)." }
        Write-Host "PostgreSQL tests will be skipped: $($server.Reason)."
        return $null
    }

    $folder = Join-Path ([IO.Path]::GetTempPath()) "semanticcore-pg-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $data = Join-Path $folder 'data'
    $password = [guid]::NewGuid().ToString('N')
    New-Item -ItemType Directory $folder | Out-Null
    Set-Content (Join-Path $folder 'pwfile') $password -NoNewline
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $port = $listener.LocalEndpoint.Port
    $listener.Stop()

    # PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the 'postgres' account the package made.
    $asServer = @()
    if ($IsLinux -and (id -u) -eq '0') {
        & chown -R postgres $folder
        $asServer = @('runuser', '-u', 'postgres', '--')
    }
    $run = {
        param([string] $Program, [string[]] $Arguments)
        $command = $asServer + @((Join-Path $server.Bin $Program)) + $Arguments
        $output = & $command[0] $command[1..($command.Count - 1)] 2>&1
        if ($LASTEXITCODE) { throw "$Program failed (exit code $LASTEXITCODE): $($output -join "`n")" }
    }
    & $run 'initdb' @('-D', $data, '-U', 'semanticcore', "--pwfile=$(Join-Path $folder 'pwfile')", '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync')
    # fsync off: a test cluster need not survive a power cut, and it makes the suites faster.
    $options = "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$folder -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    & $run 'pg_ctl' @('-D', $data, '-l', (Join-Path $folder 'server.log'), '-o', $options, '-w', '-t', '60', 'start')
    [pscustomobject]@{
        Folder           = $folder
        Bin              = $server.Bin
        Port             = $port
        ConnectionString = "Host=127.0.0.1;Port=$port;Username=semanticcore;Password=$password;Database=postgres"
        AsServer         = $asServer
    }
}

# Stops the cluster (immediately: nothing in it is kept) and deletes its folder.
function Stop-TestCluster($Cluster) {
    if (-not $Cluster) { return }
    $command = $Cluster.AsServer + @((Join-Path $Cluster.Bin 'pg_ctl'), '-D', (Join-Path $Cluster.Folder 'data'), '-m', 'immediate', '-w', 'stop')
    & $command[0] $command[1..($command.Count - 1)] *> $null
    Remove-Item $Cluster.Folder -Recurse -Force -ErrorAction Ignore
}
