#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $cmdlets = (Get-Module SemanticCore.PS).ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $parameters = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }
    }

    It 'comes from the module''s MAML file, offline' {
        # Without MAML, Get-Help makes a synopsis out of the syntax.
        $help.Synopsis | Should -Not -BeLike "*$Name*[<]CommonParameters[>]*"
        $help.Synopsis.Length | Should -BeGreaterThan 20
    }

    It 'has a description' {
        ($help.description.Text -join "`n").Length | Should -BeGreaterThan 100
    }

    It 'describes every parameter with its type, position, pipeline input and default' {
        foreach ($parameter in $parameters) {
            $documented = $help.parameters.parameter | Where-Object name -eq $parameter
            $documented | Should -Not -BeNullOrEmpty -Because "-$parameter must be documented"
            ($documented.description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$parameter must be described"
            $documented.type.name | Should -Not -BeNullOrEmpty
            $documented.position | Should -Not -BeNullOrEmpty
            $documented.pipelineInput | Should -Not -BeNullOrEmpty
            $documented.defaultValue | Should -Not -BeNullOrEmpty
        }
    }

    It 'answers Get-Help -Parameter for each parameter' {
        foreach ($parameter in $parameters) {
            (Get-Help $Name -Parameter $parameter).name | Should -Be $parameter
        }
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = (Get-Help $Name -Examples).examples.example
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join '') | Should -Not -BeNullOrEmpty -Because "$($example.title) needs an explanation"
        }
    }

    It 'names its inputs and outputs' {
        $help.inputTypes.inputType.type.name | Should -Not -BeNullOrEmpty
        $help.returnValues.returnValue.type.name | Should -Not -BeNullOrEmpty
    }

    It 'links only to pages that exist' {
        foreach ($link in $help.relatedLinks.navigationLink | Where-Object uri) {
            $link.uri | Should -Match '^https://'
        }
    }
}

Describe 'about_SemanticCore.PS' {
    It 'is found by Get-Help and covers the module' {
        $topic = Get-Help about_SemanticCore.PS | Out-String

        $topic | Should -Match 'SHORT DESCRIPTION'
        $topic | Should -Match 'LONG DESCRIPTION'
        foreach ($cmdlet in (Get-Module SemanticCore.PS).ExportedCmdlets.Keys) {
            $topic | Should -Match $cmdlet
        }
    }
}
