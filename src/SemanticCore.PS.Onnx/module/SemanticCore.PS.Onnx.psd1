@{
    # Its initializer adds the Onnx embedding provider to SemanticCore.PS; it exports no commands of its own.
    RootModule           = 'SemanticCore.PS.Onnx.dll'
    # Same as SemanticCore.PS's: the two are built and released together (a test checks).
    ModuleVersion        = '0.7.0'
    GUID                 = '0d6c2a57-3e8b-4f19-a2c4-7b5e9d1f8c36'
    Author               = 'SemanticCore.PS contributors'
    CompanyName          = 'SemanticCore.PS'
    Copyright            = '(c) SemanticCore.PS contributors. MIT License.'
    Description          = 'Semantic search with no key and no network: sentence-embedding models (all-MiniLM-L6-v2, snowflake-arctic-embed-xs) run on this machine by ONNX Runtime, as the Onnx provider of SemanticCore.PS.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredModules      = @(@{ ModuleName = 'SemanticCore.PS'; RequiredVersion = '0.7.0' })
    CmdletsToExport      = @()
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Semantic', 'Embeddings', 'ONNX', 'MiniLM', 'Offline', 'Search', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri = 'https://github.com/semanticcore/SemanticCore.PS'
            LicenseUri = 'https://github.com/semanticcore/SemanticCore.PS/blob/main/LICENSE'
        }
    }
}
