<#
.SYNOPSIS
    The nightly job: mirror a folder into the index, send the new chunks to a batch job, store the results
    of the jobs that finished, back the index up, and check its health.
.DESCRIPTION
    Meant for a scheduler (cron, systemd timer, Task Scheduler):
        pwsh -NoProfile -File nightly.ps1 -Folder /srv/kb -Database /srv/kb/index.db -BackupFolder /backup
    It always writes one summary object, and exits with 1 when the night had a problem (0 otherwise), so
    the scheduler's own alerting works. A problem is a step that failed (its error is caught, the steps
    that can still run do) or a health rule that failed; each is in the summary's Problems with its step,
    name and message, and Problems is empty on a healthy night. Keys come from the environment
    ($env:GEMINI_BATCH_API_KEY).

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
if (-not $Database) { throw 'Give -Database, or set $env:SEMANTICCORE_DATABASE, to the index the nightly job keeps.' }
# The full path: the summary names the file whatever the scheduler's working folder was.
$Database = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($Database)
# A script-scoped copy: assigning to an entry of the caller's table would change the caller's defaults.
$PSDefaultParameterValues = @{ '*:Database' = $Database }
$newIndex = -not (Test-Path -LiteralPath $Database)
$problems = [System.Collections.Generic.List[object]]::new()

function Add-Problem {
    # One line of the summary's Problems, also shown as a warning: which step, the ErrorId or rule, and what happened.
    param([string] $Step, [string] $Name, [string] $Message)
    $problems.Add([pscustomobject]@{ Step = $Step; Name = $Name; Message = $Message })
    Write-Warning "${Step}: $Message"
}

function Add-StepFailure {
    # A step's terminating error, recorded so that the night goes on and the summary is still written.
    param([string] $Step, [System.Management.Automation.ErrorRecord] $ErrorRecord)
    Add-Problem $Step $ErrorRecord.FullyQualifiedErrorId.Split(',')[0] $ErrorRecord.Exception.Message
}

$synced = @()
$summary = $null
$submitted = @()
$held = @()
$backup = $null
$month = @()

# 1. Store what finished since last night (a new index has no jobs yet).
if (-not $newIndex) {
    # A job's failure is that job's: the others are still synced, and the failure is a problem of the night.
    try { $synced = @(Sync-BatchJob -ErrorAction Continue -ErrorVariable syncErrors) } catch { Add-StepFailure 'SyncJobs' $_ }
    foreach ($failure in $syncErrors) { Add-StepFailure 'SyncJobs' $failure }
}

# 2. Make the index match the folder: new and changed files as Pending, vanished ones removed.
try {
    $mirror = Sync-SemanticFolder -Path $Folder -Provider $Provider -ErrorAction Continue -WhatIf:$WhatIfPreference
    $summary = $mirror | Where-Object { $_ -is [psobject] -and $_.PSObject.TypeNames[0] -eq 'SemanticCore.Model.FolderSyncSummary' }
} catch { Add-StepFailure 'Mirror' $_ }

if ($WhatIfPreference) {
    return $summary
}

# Without an index (the first night's mirror failed) there is nothing to send, copy or check.
if (Test-Path -LiteralPath $Database) {
    # 3. Send what is Pending to the batch API at half price, within the project's queue and tonight's budget.
    # A full batch queue is routine (the chunks wait for the next night, as what -MaxCost holds does): it is held back, not a problem.
    try { $submitted = @(Invoke-BatchFlush -Force -MaxCost $MaxCost -WarningVariable held -ErrorAction Continue -ErrorVariable flushErrors) } catch { Add-StepFailure 'Flush' $_ }
    foreach ($failure in $flushErrors) {
        if ($failure.FullyQualifiedErrorId -like 'BatchQueueFull,*') { $held += [System.Management.Automation.WarningRecord]::new($failure.Exception.Message) } else { Add-StepFailure 'Flush' $failure }
    }

    # 4. A dated copy, taken while nothing else needs to stop (Backup-SemanticIndex creates a missing folder).
    if ($BackupFolder) {
        try {
            $backup = Backup-SemanticIndex -Destination (Join-Path $BackupFolder "index-$(Get-Date -Format yyyy-MM-dd).db") -Force
        } catch { Add-StepFailure 'Backup' $_ }
    }

    # 5. Health: every rule, the failed ones reported.
    try {
        foreach ($rule in Test-SemanticIndex -PendingHours $PendingHours | Where-Object { -not $_.Passed }) { Add-Problem 'Health' $rule.Name $rule.Message }
    } catch { Add-StepFailure 'Health' $_ }

    # 6. What the index cost in the last 30 days, and what the batch price saved.
    try { $month = @(Get-SemanticSpend -Since (Get-Date).AddDays(-30) | Measure-Object Cost, Savings -Sum) } catch { Add-StepFailure 'Spend' $_ }
}

[pscustomobject]@{
    Database      = $Database
    Folder        = $summary.Path
    IndexCreated  = [bool]$summary.IndexCreated
    Added         = $summary.Added
    Updated       = $summary.Updated
    Removed       = $summary.Removed
    ChunksToEmbed = $summary.ChunksToEmbed
    JobsSynced    = $synced.Count
    JobsSubmitted = $submitted.Count
    # ForEach-Object, not $held.Message: on an empty list that gives one $null, not an empty array.
    HeldBack      = @($held | ForEach-Object Message)
    # US dollars; 0 before anything was billed (Measure-Object sums nothing to an empty value).
    Cost30Days    = [decimal]($month | Where-Object Property -EQ Cost).Sum
    Saved30Days   = [decimal]($month | Where-Object Property -EQ Savings).Sum
    Backup        = $backup.Path
    Problems      = @($problems)
    Healthy       = $problems.Count -eq 0
}

# Explicit either way: a caller's $LASTEXITCODE says how tonight went, not how an earlier native command did.
exit $(if ($problems.Count -gt 0) { 1 } else { 0 })
