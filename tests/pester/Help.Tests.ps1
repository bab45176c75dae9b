#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The help compiled by tools/Build-Help.ps1 into the built module: every exported cmdlet has real help (not the
# stub PowerShell generates from the syntax), at least two examples with code, a description for every parameter,
# and the about_AdeEnrollment topic lists every catalogued error ID.

BeforeDiscovery {
    . $PSScriptRoot/Common.ps1
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $commands = foreach ($command in Get-Command -Module AdeEnrollment -CommandType Cmdlet | Sort-Object Name) {
        @{
            Name       = $command.Name
            Parameters = @(foreach ($p in $command.Parameters.Values | Where-Object Name -notin $common) {
                    @{
                        Parameter = $p.Name
                        # Required in help means mandatory in every parameter set the parameter belongs to.
                        Required  = -not ($p.ParameterSets.Values | Where-Object { -not $_.IsMandatory })
                    }
                })
        }
    }
    $errorIds = @((Get-AdeModuleType AdeEnrollment.Engine.Errors.ErrorCatalog).GetMethods([System.Reflection.BindingFlags]'Public, Static') |
            Where-Object ReturnType -eq ((Get-AdeModuleType AdeEnrollment.Engine.Errors.AdeException)) |
            ForEach-Object { @{ ErrorId = $_.Name } })
}

BeforeAll {
    Import-Module AdeEnrollment
    function Get-ParaText($Node) { (@($Node) | Where-Object { $_ } | ForEach-Object { $_.Text }) -join "`n" }
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $help = Get-Help -Name $Name -Full -ErrorAction Stop
    }

    It 'comes from the module''s MAML help file' {
        $help.ModuleName | Should -Be 'AdeEnrollment'
        $help.PSObject.TypeNames | Should -Contain 'MamlCommandHelpInfo'
    }

    It 'has a synopsis that is not the generated stub' {
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        # Without help, PowerShell puts the syntax in the synopsis: "Get-AdeToken [[-Name] <string[]>] [<CommonParameters>]".
        $synopsis | Should -Not -Match ('^' + [regex]::Escape($Name) + '(\s|$)')
        $synopsis | Should -Not -BeLike '*<CommonParameters>*'
    }

    It 'has a description' {
        Get-ParaText $help.description | Should -Not -BeNullOrEmpty
    }

    It 'has at least 2 examples, each with code and remarks' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because "'$($example.title)' needs code"
            Get-ParaText $example.remarks | Should -Not -BeNullOrEmpty -Because "'$($example.title)' needs an explanation"
        }
    }

    It 'calls AdeEnrollment cmdlets in its examples with parameters they have' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $wrong = foreach ($example in @($help.examples.example)) {
            $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$null, [ref]$errors)
            if ($errors) { "'$($example.title)' does not parse: $($errors[0].Message)" }
            foreach ($call in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $command = Get-Command -Name "$($call.GetCommandName())" -Module AdeEnrollment -ErrorAction SilentlyContinue
                if (-not $command) { continue }
                $names = @($command.Parameters.Values | ForEach-Object { $_.Name; $_.Aliases }) + $common
                foreach ($used in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    if ($used.ParameterName -notin $names) { "'$($example.title)': $($command.Name) has no -$($used.ParameterName)" }
                }
            }
        }
        $wrong | Should -BeNullOrEmpty
    }

    It 'describes -<Parameter>' -ForEach $Parameters {
        $helpParameter = @($help.parameters.parameter) | Where-Object name -eq $Parameter
        $helpParameter | Should -Not -BeNullOrEmpty -Because "-$Parameter should be in the help"
        Get-ParaText $helpParameter.description | Should -Not -BeNullOrEmpty
    }

    It 'shows -<Parameter> as required: <Required>' -ForEach $Parameters {
        $helpParameter = @($help.parameters.parameter) | Where-Object name -eq $Parameter
        $helpParameter.required | Should -Be $Required.ToString().ToLowerInvariant()
    }

    It 'gives a HelpMessage for every mandatory parameter' {
        $missing = foreach ($p in (Get-Command $Name).Parameters.Values) {
            foreach ($a in $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }) {
                if (-not "$($a.HelpMessage)".Trim()) { "-$($p.Name) (set $($a.ParameterSetName))" }
            }
        }
        $missing | Should -BeNullOrEmpty
    }

    It 'has no broken online help: no link, or an absolute https link' {
        $command = Get-Command $Name
        $uris = @(@($command.HelpUri) + @($help.relatedLinks.navigationLink | Where-Object { $_ } | ForEach-Object uri) | Where-Object { "$_".Trim() })
        foreach ($uri in $uris) { $uri | Should -Match '^https://[^\s/]+\.[^\s/]+/' }
        if (-not $uris) {
            # Without a link, -Online says so (and never opens a browser on a made-up address).
            { Get-Help $Name -Online -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidOperation,Microsoft.PowerShell.Commands.GetHelpCommand'
        }
    }

    It 'shows in the syntax that -Token, -Profile and -Request take objects, not only names' {
        $syntax = (Get-Command $Name -Syntax) + "`n" + ($help.syntax | Out-String)
        $syntax | Should -Not -Match '-(Token|Profile|Request)\]? <String>'
    }

    It 'documents no parameter the cmdlet does not have' {
        $known = @($Parameters | ForEach-Object { $_.Parameter }) + 'WhatIf', 'Confirm'
        @($help.parameters.parameter | Where-Object { $_ } | ForEach-Object name | Where-Object { $_ -notin $known }) | Should -BeNullOrEmpty
    }
}

Describe 'The module manifest' {
    It 'has no online help address that does not work' {
        $module = Get-Module AdeEnrollment
        if ($module.HelpInfoUri) { $module.HelpInfoUri | Should -Match '^https://' }
        $data = Import-PowerShellDataFile (Join-Path $module.ModuleBase 'AdeEnrollment.psd1')
        foreach ($uri in @($data.PrivateData.PSData.ProjectUri, $data.PrivateData.PSData.LicenseUri, $data.HelpInfoURI) | Where-Object { $_ }) {
            $uri | Should -Match '^https://'
        }
    }
}

Describe 'about_AdeEnrollment' {
    BeforeAll {
        $about = Get-Help about_AdeEnrollment -ErrorAction Stop | Out-String
    }

    It 'is found by Get-Help and has the about_ sections' {
        $about | Should -Match 'TOPIC\s+about_AdeEnrollment'
        $about | Should -Match 'SHORT DESCRIPTION'
        $about | Should -Match 'LONG DESCRIPTION'
    }

    It 'lists the catalogued error ID <ErrorId>' -ForEach $errorIds {
        $about | Should -Match ('(?m)^\s+' + [regex]::Escape($ErrorId) + '\s*$')
    }
}
