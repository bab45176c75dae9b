# What the Apple Business device cmdlets take from the pipeline: CSV rows with a serial number column (the columns of
# the device cmdlets), AdeOrgDevice and AdeDevice objects and strings; a row without a serial column is a
# SerialNumberMissing of its own. Piped serials cost Get-AdeOrgDevice the requests of the same -SerialNumber array.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 6262
    $script:cp = 'AdeEnrollment.Commands.'

    function New-TestAccount([int] $GetPerMinute = 0) {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "key-$([guid]::NewGuid().ToString('N')).pem")
        $budget = if ($GetPerMinute -gt 0) { @{ GetPerMinute = $GetPerMinute } } else { @{} }
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri @budget
    }

    function New-SerialCsv([string] $Column, [string[]] $Serials) {
        $csv = Join-Path $TestDrive "rows-$([guid]::NewGuid().ToString('N')).csv"
        $Serials | ForEach-Object { [pscustomobject]@{ Owner = 'someone'; $Column = $_ } } | Export-Csv $csv -NoTypeInformation
        $csv
    }

    # The "What if:" lines a command writes to the host (from a transcript), and what it returned.
    function Invoke-WhatIf([scriptblock] $Block) {
        $file = Join-Path $TestDrive "whatif-$([guid]::NewGuid().ToString('N')).txt"
        Start-Transcript -Path $file | Out-Null
        try { $out = @(& $Block) } finally { Stop-Transcript | Out-Null }
        [pscustomobject]@{
            Output  = $out
            Targets = @(Get-Content $file | Where-Object { $_ -match 'What if: .* on target "([^"]+)"' } | ForEach-Object { $Matches[1] })
        }
    }

    function Get-BusinessGetCount { @(Get-AdeSimRequest -Path '/v1/*' | Where-Object Method -eq 'GET').Count }
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Apple Business device cmdlets: piped devices' {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        Set-AdeSimBusinessApi -GetPerMinute 0 -PostPerHour 0 -ActivityDuration ([timespan]::Zero) -ActivityOutcome None
        Connect-AdeStore -Path (Join-Path $TestDrive "pipe-$([guid]::NewGuid().ToString('N')).db")
    }

    It 'Get-AdeOrgDevice reads CSV rows with the column <Column>, in the order of the rows' -ForEach @(
        @{ Column = 'Serial Number' }
        @{ Column = 'SerialNo' }
    ) {
        New-TestAccount | Out-Null
        $serials = @((Add-AdeSimOrgDevice -Count 3).SerialNumber)
        $given = $serials[2], $serials[0], $serials[1]
        $out = @(Import-Csv (New-SerialCsv $Column $given) | Get-AdeOrgDevice -ErrorAction Stop)
        $out.SerialNumber | Should -Be $given
        $out[0] | Should -BeOfType (Get-AdeModuleType AdeEnrollment.Engine.Business.AdeOrgDevice)
    }

    It 'Get-AdeOrgDevice still takes serial strings, AdeOrgDevice objects, AdeDevice objects from Get-AdeDevice and -SerialNumber' {
        New-TestAccount -GetPerMinute 600 | Out-Null # several reads, each one by one
        $t = New-SimToken -Name "Pipe $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        Sync-AdeDevice -Token $t.Token | Out-Null
        $onToken = @(Get-AdeDevice -Token $t.Token.Name)
        $onToken.Count | Should -Be 2
        @($onToken | Get-AdeOrgDevice -ErrorAction Stop).SerialNumber | Should -Be $onToken.SerialNumber
        $serials = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        @($serials | Get-AdeOrgDevice -ErrorAction Stop).SerialNumber | Should -Be $serials
        @(Get-AdeOrgDevice -SerialNumber $serials | Get-AdeOrgDevice -ErrorAction Stop).SerialNumber | Should -Be $serials
        @(Get-AdeOrgDevice -SerialNumber $serials -ErrorAction Stop).SerialNumber | Should -Be $serials
        @(Get-AdeOrgDevice $serials[1] -ErrorAction Stop).SerialNumber | Should -Be $serials[1]
        # a serial Apple does not know among piped rows is still the non-terminating BusinessDeviceNotFound
        $rows = @([pscustomobject]@{ 'Serial Number' = 'C02ZZZZZZZZZ' }, [pscustomobject]@{ 'Serial Number' = $serials[0] })
        @($rows | Get-AdeOrgDevice -ErrorVariable e -ErrorAction SilentlyContinue).SerialNumber | Should -Be $serials[0]
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "BusinessDeviceNotFound,$($cp)GetAdeOrgDeviceCommand"
        $e[0].TargetObject | Should -Be 'C02ZZZZZZZZZ'
    }

    It 'Get-AdeOrgDevice: a row without a serial column is a non-terminating SerialNumberMissing; the other rows are read, and rows without any serial read nothing' {
        New-TestAccount | Out-Null
        $serials = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        $rows = @([pscustomobject]@{ Seriennummer = 'C02ZZZZZZZZZ'; Owner = 'x' }, [pscustomobject]@{ 'Serial Number' = $serials[1] })
        $out = @($rows | Get-AdeOrgDevice -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.SerialNumber | Should -Be $serials[1]
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "SerialNumberMissing,$($cp)GetAdeOrgDeviceCommand"
        $e[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e[0].Exception.Message | Should -Match "'Seriennummer', 'Owner'"
        $e[0].Exception.Message | Should -Match 'Serial Number'
        # nothing usable piped is never a read of the whole inventory
        @([pscustomobject]@{ Seriennummer = $serials[0] } | Get-AdeOrgDevice -ErrorAction SilentlyContinue).Count | Should -Be 0
        @(@() | Get-AdeOrgDevice).Count | Should -Be 0
    }

    It '<Command> takes CSV rows with the columns Serial Number and SerialNo (-WhatIf): a What if line per device, nothing sent' -ForEach @(
        @{ Command = 'Set-AdeOrgDeviceServer'; ByToken = $true }
        @{ Command = 'Set-AdeOrgDeviceServer'; ByToken = $false }
        @{ Command = 'Clear-AdeOrgDeviceServer'; ByToken = $true }
        @{ Command = 'Clear-AdeOrgDeviceServer'; ByToken = $false }
        @{ Command = 'Remove-AdeOrgDevice'; ByToken = $false }
    ) {
        New-TestAccount | Out-Null
        $name = "Pipe $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-SimToken -Name $name | Out-Null
        $server = if ($Command -eq 'Remove-AdeOrgDevice') { @{} } elseif ($ByToken) { @{ Token = $name } } else { @{ MdmServer = $name } }
        $serials = @((Add-AdeSimOrgDevice -Count 4).SerialNumber)
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities').Count
        $r = Invoke-WhatIf { Import-Csv (New-SerialCsv 'Serial Number' $serials[0, 1]) | & $Command @server -WhatIf -ErrorAction Stop }
        $r.Output | Should -BeNullOrEmpty
        $r.Targets | Should -Be $serials[0, 1]
        $r = Invoke-WhatIf { Import-Csv (New-SerialCsv 'SerialNo' $serials[2, 3]) | & $Command @server -WhatIf -ErrorAction Stop }
        $r.Targets | Should -Be $serials[2, 3]
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities').Count | Should -Be $posts
    }

    It '<Command> -SerialNumber takes the rows of a CSV file given as an argument, not their text' -ForEach @(
        @{ Command = 'Set-AdeOrgDeviceServer' }
        @{ Command = 'Clear-AdeOrgDeviceServer' }
        @{ Command = 'Remove-AdeOrgDevice' }
    ) {
        New-TestAccount | Out-Null
        $name = "Arg $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-SimToken -Name $name | Out-Null
        $server = if ($Command -eq 'Remove-AdeOrgDevice') { @{} } else { @{ MdmServer = $name } }
        $serials = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        $rows = Import-Csv (New-SerialCsv 'Serial Number' $serials)
        (Invoke-WhatIf { & $Command -SerialNumber $rows @server -WhatIf -ErrorAction Stop }).Targets | Should -Be $serials
        $err = { & $Command -SerialNumber ([pscustomobject]@{ Seriennummer = 'X' }) @server -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentTransformationError,$cp$($Command.Replace('-', ''))Command" -PassThru
        $err.Exception.Message | Should -BeLike "*'Seriennummer'*"
    }

    It '<Command>: a row without a serial column is a non-terminating SerialNumberMissing and the other rows still go (-WhatIf)' -ForEach @(
        @{ Command = 'Set-AdeOrgDeviceServer'; Class = 'SetAdeOrgDeviceServerCommand' }
        @{ Command = 'Clear-AdeOrgDeviceServer'; Class = 'ClearAdeOrgDeviceServerCommand' }
        @{ Command = 'Remove-AdeOrgDevice'; Class = 'RemoveAdeOrgDeviceCommand' }
    ) {
        New-TestAccount | Out-Null
        $name = "Pipe $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-SimToken -Name $name | Out-Null
        $server = if ($Command -eq 'Remove-AdeOrgDevice') { @{} } else { @{ Token = $name } }
        $serials = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        $rows = @([pscustomobject]@{ 'Serial Number' = $serials[0] }, [pscustomobject]@{ Seriennummer = 'C02ZZZZZZZZZ'; Owner = 'x' }, [pscustomobject]@{ SerialNo = $serials[1] })
        $r = Invoke-WhatIf { $rows | & $Command @server -WhatIf -ErrorVariable e -ErrorAction SilentlyContinue; $script:errors = $e }
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be "SerialNumberMissing,$cp$Class"
        $errors[0].Exception.Message | Should -Match "'Seriennummer', 'Owner'"
        $r.Targets | Should -Be $serials
    }

    It 'Set-AdeOrgDeviceServer and Clear-AdeOrgDeviceServer send the devices of CSV rows and of Get-AdeOrgDevice and Get-AdeDevice objects' {
        New-TestAccount | Out-Null
        $name = "Pipe $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $t = New-SimToken -Name $name
        $serials = @((Add-AdeSimOrgDevice -Count 3).SerialNumber)
        $set = Import-Csv (New-SerialCsv 'Serial Number' $serials[0, 1]) | Set-AdeOrgDeviceServer -Token $name -Wait -ErrorAction Stop
        $set | Should -BeOfType (Get-AdeModuleType AdeEnrollment.Engine.Business.AdeOrgDeviceActivity)
        @($set.Devices.SerialNumber | Sort-Object) | Should -Be @($serials[0, 1] | Sort-Object)
        $set.Succeeded | Should -Be 2
        (Get-AdeOrgDevice -SerialNumber $serials[2] | Set-AdeOrgDeviceServer -MdmServer $name -Wait -ErrorAction Stop).Succeeded | Should -Be 1
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        Sync-AdeDevice -Token $t.Token | Out-Null
        $synced = @(Get-AdeDevice -Token $name)
        $synced.Count | Should -Be 3
        $clear = $synced | Clear-AdeOrgDeviceServer -Token $name -Wait -ErrorAction Stop
        $clear.Succeeded | Should -Be 3
        @(Get-AdeOrgDevice -SerialNumber $serials).Status | Sort-Object -Unique | Should -Be 'UNASSIGNED'
    }

    It 'a piped list of 30 serials costs Get-AdeOrgDevice no more Business GETs than the -SerialNumber array, and returns all 30' {
        $big = New-TestAccount -GetPerMinute 1000
        $serials = @((Add-AdeSimOrgDevice -Count 30).SerialNumber)
        [array]::Reverse($serials)
        $before = Get-BusinessGetCount
        $array = @(Get-AdeOrgDevice -SerialNumber $serials -Account $big.ClientId -ErrorAction Stop)
        $arrayGets = (Get-BusinessGetCount) - $before
        $before = Get-BusinessGetCount
        $piped = @($serials | Get-AdeOrgDevice -Account $big.ClientId -ErrorAction Stop)
        $pipedGets = (Get-BusinessGetCount) - $before
        $pipedGets | Should -BeLessOrEqual $arrayGets
        $piped.Count | Should -Be 30
        # both in the order given (not the inventory's)
        @($piped.SerialNumber) | Should -Be $serials
        @($array.SerialNumber) | Should -Be $serials
        # ... so an account with the default budget (20 GETs a minute) reads them all, piped, without BusinessThrottled
        $default = New-TestAccount
        @($serials | Get-AdeOrgDevice -Account $default.ClientId -ErrorAction Stop).Count | Should -Be 30
    }

    It 'Get-AdeOrgDevice -SerialNumber takes the rows of a CSV file given as an argument' {
        New-TestAccount | Out-Null
        $serials = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        (Get-AdeOrgDevice -SerialNumber (Import-Csv (New-SerialCsv 'SerialNo' $serials)) -ErrorAction Stop).SerialNumber | Should -Be $serials
    }

    It 'completes -ProductFamily with Apple''s product families' {
        $line = 'Get-AdeOrgDevice -ProductFamily i'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('iPhone', 'iPad', 'iPod')
    }
}
