@{
    RootModule           = 'SemanticCore.PowerShell.dll'
    # Loaded first: it resolves the core and its dependencies into the module's own load context.
    NestedModules        = @('SemanticCore.PowerShell.Loader.dll')
    ModuleVersion        = '0.7.0'
    GUID                 = '5b3f0c8e-7a41-4d2b-9c6e-2f1d8a9e4b17'
    Author               = 'SemanticCore.PS contributors'
    CompanyName          = 'SemanticCore.PS'
    Copyright            = '(c) SemanticCore.PS contributors. MIT License.'
    Description          = 'A semantic index of documents in SQLite, with embeddings at half price through the Google Gemini Batch API.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('SemanticCore.PS.format.ps1xml')
    CmdletsToExport      = @(
        'Import-SemanticDocument'
        'Get-ChunkStatus'
        'Update-SemanticSchema'
        'Set-SemanticKeyring'
        'Invoke-BatchFlush'
        'Sync-BatchJob'
        'Get-BatchJob'
        'Get-SemanticSpend'
        'Search-SemanticIndex'
        'Get-SemanticDocument'
        'Remove-SemanticDocument'
        'Reset-ChunkStatus'
        'Sync-SemanticFolder'
        'Stop-BatchJob'
        'Backup-SemanticIndex'
        'Copy-SemanticIndex'
        'Test-SemanticIndex'
        'Get-SemanticKeyring'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Semantic', 'Embeddings', 'Gemini', 'SQLite', 'Search', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri = 'https://github.com/semanticcore/SemanticCore.PS'
            LicenseUri = 'https://github.com/semanticcore/SemanticCore.PS/blob/main/LICENSE'
        }
    }
}
