<#
.SYNOPSIS
    The nightly job: mirror a folder into the index, send the new chunks to a batch job, store the results
    of the jobs that finished, back the index up, and check its health.
.DESCRIPTION
    Meant for a scheduler (cron, systemd timer, Task Scheduler):
        pwsh -NoProfile -File nightly.ps1 -Folder /srv/kb -Database /srv/kb/index.db -BackupFolder /backup
    It writes one summary object and exits with 1 when a health rule fails (0 otherwise), so the
    scheduler's own alerting works. Keys come from the environment ($env:GEMINI_BATCH_API_KEY).

    The order matters: jobs are synced first, so that chunks put back to Pending (retries) go out with
    tonight's flush, and the flush sends whatever is Pending, however little.
.EXAMPLE
    ./nightly.ps1 -Folder ./kb -Database ./kb.db -Provider Local -WhatIf
    The forecast: what the mirror would import, remove and cost. Nothing is written.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)]
    [string] $Folder,

    [string] $Database = $env:SEMANTICCORE_DATABASE,

    # The provider of a new index (an existing index keeps its own).
    [ValidateSet('Gemini', 'Local')]
    [string] $Provider = 'Gemini',

    # Where to keep a dated copy of the index; none when left out.
    [string] $BackupFolder,

    # Pending chunks older than this fail the health check (the flush should have sent them).
    [double] $PendingHours = 24,

    # US dollars tonight's flush may spend at the batch price; what would pass it waits for tomorrow.
    [decimal] $MaxCost = 5
)

$ErrorActionPreference = 'Stop'
Import-Module SemanticCore.PS
# A script-scoped copy: assigning to an entry of the caller's table would change the caller's defaults.
$PSDefaultParameterValues = @{ '*:Database' = $Database }
$newIndex = -not (Test-Path -LiteralPath $Database)

# 1. Store what finished since last night (a new index has no jobs yet).
$synced = if ($newIndex) { @() } else { @(Sync-BatchJob -ErrorAction Continue) }

# 2. Make the index match the folder: new and changed files as Pending, vanished ones removed.
$mirror = Sync-SemanticFolder -Path $Folder -Provider $Provider -ErrorAction Continue -WhatIf:$WhatIfPreference
$summary = $mirror | Where-Object { $_ -is [psobject] -and $_.PSObject.TypeNames[0] -eq 'SemanticCore.Model.FolderSyncSummary' }

if ($WhatIfPreference) {
    return $summary
}

# 3. Send what is Pending to the batch API at half price, within the project's queue and tonight's budget.
$submitted = @(Invoke-BatchFlush -Force -MaxCost $MaxCost -WarningVariable held)

# 4. A dated copy, taken while nothing else needs to stop.
$backup = if ($BackupFolder) {
    Backup-SemanticIndex -Destination (Join-Path $BackupFolder "index-$(Get-Date -Format yyyy-MM-dd).db") -Force
}

# 5. Health: every rule, the failed ones reported.
$problems = @(Test-SemanticIndex -PendingHours $PendingHours | Where-Object { -not $_.Passed })
foreach ($problem in $problems) { Write-Warning "$($problem.Name): $($problem.Message)" }

# 6. What the index cost in the last 30 days, and what the batch price saved.
$month = Get-SemanticSpend -Since (Get-Date).AddDays(-30) | Measure-Object Cost, Savings -Sum

[pscustomobject]@{
    Database      = $Database
    Folder        = $summary.Path
    Added         = $summary.Added
    Updated       = $summary.Updated
    Removed       = $summary.Removed
    ChunksToEmbed = $summary.ChunksToEmbed
    JobsSynced    = $synced.Count
    JobsSubmitted = $submitted.Count
    HeldBack      = @($held.Message)
    Cost30Days    = ($month | Where-Object Property -EQ Cost).Sum
    Saved30Days   = ($month | Where-Object Property -EQ Savings).Sum
    Backup        = $backup.Path
    Problems      = @($problems.Name)
    Healthy       = $problems.Count -eq 0
}

if ($problems.Count -gt 0) { exit 1 }
