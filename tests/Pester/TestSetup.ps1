# Dot-sourced by every *.Tests.ps1 in its BeforeAll: imports the module and offers a small knowledge base
# in $TestDrive. The module is the installed one, by name, as runbooks import it; or the build that
# $env:SEMANTICCORE_TEST_MODULE names (build.ps1 -Task Test gives out/SemanticCore.PS). Pester runs in a
# fresh process (a loaded module assembly cannot be unloaded): build.ps1 -Task Test starts one.

$module = if ($env:SEMANTICCORE_TEST_MODULE) { $env:SEMANTICCORE_TEST_MODULE } else { 'SemanticCore.PS' }
Import-Module $module -ErrorAction Stop

# Tests own their environment: nothing from the caller's session may leak in.
foreach ($name in 'SEMANTICCORE_DATABASE', 'SEMANTICCORE_GEMINI_ENDPOINT', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GEMINI_BATCH_API_KEY') {
    Remove-Item "Env:$name" -ErrorAction Ignore
}
Set-SemanticKeyring -Clear

function New-TestKnowledgeBase {
    # A folder of documents as admins keep them: Markdown with sections and code, and plain text.
    param([string] $Path = (Join-Path $TestDrive 'kb'))

    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    Set-Content -LiteralPath (Join-Path $Path 'guide.md') -Value @'
# Guide

Intro text about the tool.

## Install

Run the installer and restart the shell.

```powershell
Install-Module SemanticCore.PS
```

## Rotate keys

Create the new batch key in the console, then store it in the session keyring.
'@
    Set-Content -LiteralPath (Join-Path $Path 'notes.txt') -Value "First paragraph of the notes.`n`nSecond paragraph: storage quotas are reviewed quarterly."
    Get-Item -LiteralPath $Path
}


. (Join-Path $PSScriptRoot 'TestBackends.ps1')
