# What the device and profile cmdlets show back: piped rows and their serial column, one warning per operation,
# per-token profile names, settings as properties, confirmation before devices are re-sent a profile.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 9191
    $script:cp = 'AdeEnrollment.Commands.'
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Piped rows: the serial number column' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'columns.db')
        $script:t = New-SimToken -Name 'Columns' -Devices 30
        Sync-AdeDevice -Token Columns | Out-Null
        New-AdeProfile -Token Columns -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $script:serials = @((Get-AdeDevice -Token Columns).SerialNumber)
    }

    It 'Get-AdeDevice and Set-AdeDeviceProfile read the column <Column>' -ForEach @(
        @{ Column = 'Serial Number'; Index = 0 }
        @{ Column = 'serial'; Index = 1 }
        @{ Column = 'SerialNo'; Index = 2 }
        @{ Column = 'Serial_Number'; Index = 3 }
        @{ Column = 'Device Serial Number'; Index = 4 }
        @{ Column = 'Serial No.'; Index = 5 }
    ) {
        $csv = Join-Path $TestDrive "col-$Index.csv"
        [pscustomobject]@{ $Column = $serials[$Index]; Owner = 'someone' } | Export-Csv $csv -NoTypeInformation
        (Import-Csv $csv | Get-AdeDevice -ErrorAction Stop).SerialNumber | Should -Be $serials[$Index]
        $r = Import-Csv $csv | Set-AdeDeviceProfile -Profile Staff -ErrorAction Stop
        $r.SerialNumber | Should -Be $serials[$Index]
        $r.Status | Should -Be 'Success'
    }

    It 'Tab completes serial numbers from the store, within -Token when given, and server names from the tokens' {
        $one = $serials | Sort-Object | Select-Object -First 1
        foreach ($line in "Get-AdeDevice -SerialNumber $($one.Substring(0, 6))", "Set-AdeDeviceProfile -Profile Staff -Token Columns -SerialNumber $($one.Substring(0, 6))",
            "Get-AdeDeviceEvent -SerialNumber $($one.Substring(0, 6))", "Remove-AdeDevice -SerialNumber $($one.Substring(0, 6))") {
            $offered = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText)
            $offered | Should -Contain $one -Because $line
            $offered | ForEach-Object { $_ | Should -BeLike "$($one.Substring(0, 6))*" }
        }
        $line = 'Get-AdeDevice -SerialNumber '
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object) | Should -Be @($serials | Sort-Object)
        $line = "Get-AdeDevice -Token 'No such token' -SerialNumber $($one.Substring(0, 4))"
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Where-Object ResultType -eq ParameterValue).Count | Should -Be 0
        $line = 'Set-AdeOrgDeviceServer -SerialNumber X -MdmServer Col'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('Columns')
    }

    It '-SerialNumber takes the rows of a CSV file given as an argument, read by the same columns as piped rows' {
        $csv = Join-Path $TestDrive 'argument.csv'
        $serials[6, 7] | ForEach-Object { [pscustomobject]@{ 'Serial Number' = $_; Owner = 'someone' } } | Export-Csv $csv -NoTypeInformation
        (Get-AdeDevice -SerialNumber (Import-Csv $csv) -ErrorAction Stop).SerialNumber | Should -Be $serials[6, 7]
        (Set-AdeDeviceProfile -SerialNumber (Import-Csv $csv) -Profile Staff -ErrorAction Stop).SerialNumber | Should -Be $serials[6, 7]
        $err = { Get-AdeDevice -SerialNumber ([pscustomobject]@{ Seriennummer = $serials[8] }) -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,AdeEnrollment.Commands.GetAdeDeviceCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*'Seriennummer'*"
        (Get-AdeDevice -SerialNumber $serials[9], $serials[9].ToLowerInvariant()).SerialNumber | Should -Be @($serials[9], $serials[9])
    }

    It '<Command> refuses a row without a serial column with SerialNumberMissing per row, naming its columns and the accepted names' -ForEach @(
        @{ Command = 'Get-AdeDevice'; Class = 'GetAdeDeviceCommand'; Extra = @{} }
        @{ Command = 'Set-AdeDeviceProfile'; Class = 'SetAdeDeviceProfileCommand'; Extra = @{ Profile = 'Staff' } }
        @{ Command = 'Remove-AdeDevice'; Class = 'RemoveAdeDeviceCommand'; Extra = @{ WhatIf = $true } }
    ) {
        $rows = @([pscustomobject]@{ Seriennummer = $serials[10]; Owner = 'x' }, [pscustomobject]@{ SerialNumber = $serials[11] })
        $out = @($rows | & $Command @Extra -ErrorVariable e -ErrorAction SilentlyContinue 6>$null)
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "SerialNumberMissing,$cp$Class"
        $e[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e[0].Exception.Message | Should -Match "'Seriennummer', 'Owner'"
        $e[0].Exception.Message | Should -Match 'Serial Number'
        $e[0].Exception.Message | Should -Match '-SerialNumber'
        $e[0].TargetObject.Seriennummer | Should -Be $serials[10] -Because 'the error points at the row, so a script can report it'
        # the good row still counts, and nothing named '@{...}' ever reaches the engine
        if ($Command -ne 'Remove-AdeDevice') { $out.SerialNumber | Should -Be $serials[11] }
        ($out | Out-String) | Should -Not -Match '@\{'
    }

    It 'Get-AdeDevice takes profiles, and rows with a Token column, from the pipeline' {
        $expected = @(Get-AdeDevice -Token Columns -Profile Staff).SerialNumber
        $expected.Count | Should -BeGreaterThan 0
        @(Get-AdeProfile -Token Columns -Name Staff | Get-AdeDevice).SerialNumber | Should -Be $expected
        ([pscustomobject]@{ 'Serial Number' = $serials[0]; Token = 'Columns' } | Get-AdeDevice -Profile Staff).SerialNumber | Should -Be $serials[0]
        [pscustomobject]@{ SerialNumber = $serials[0]; Token = 'No such token' } | Get-AdeDevice -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be "TokenNotFound,$($cp)GetAdeDeviceCommand"
    }

    It '<Command>: a bad -Token with piped serials is one terminating TokenNotFound, before any serial is read' -ForEach @(
        @{ Command = 'Get-AdeDevice'; Class = 'GetAdeDeviceCommand'; Extra = @{} }
        @{ Command = 'Remove-AdeDevice'; Class = 'RemoveAdeDeviceCommand'; Extra = @{ WhatIf = $true } }
        @{ Command = 'Update-AdeDevice'; Class = 'UpdateAdeDeviceCommand'; Extra = @{ WhatIf = $true } }
    ) {
        $read = [System.Collections.Generic.List[string]]::new()
        $caught = $null
        try {
            $serials[0..4] | ForEach-Object { $read.Add($_); $_ } |
                & $Command -Token 'No such token' @Extra -ErrorVariable e -ErrorAction SilentlyContinue 6>$null | Out-Null
        } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be "TokenNotFound,$cp$Class"
        @($e).Count | Should -BeLessOrEqual 1
        # one error, raised before the pipeline's first serial was even produced
        $read.Count | Should -Be 0
    }

    It 'Get-AdeDevice: a -Profile that the piped serials'' token does not have is one error, not one per serial' {
        $out = @($serials[0..4] | Get-AdeDevice -Profile 'No such profile' -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 0
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "ProfileNotFound,$($cp)GetAdeDeviceCommand"
        $rows = $serials[0..4] | ForEach-Object { [pscustomobject]@{ SerialNumber = $_; Token = 'Columns' } }
        $out = @($rows | Get-AdeDevice -Profile 'No such profile' -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 0
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "ProfileNotFound,$($cp)GetAdeDeviceCommand"
        # the profile the token has still filters the piped serials
        @($serials[0..4] | Get-AdeDevice -Token Columns -Profile Staff -ErrorAction Stop).Count | Should -BeLessOrEqual 5
    }

    It 'Get-AdeDevice: a serial that other filters leave out is not called unknown' {
        $err = { Get-AdeDevice -SerialNumber $serials[0] -RemovedFromAbm -ErrorAction Stop } | Should -Throw -ErrorId "DeviceNotFound,$($cp)GetAdeDeviceCommand" -PassThru
        $err.Exception.Message | Should -BeLike "Device '$($serials[0])' is in the store (token 'Columns') but does not match the other filters given*"
        { Get-AdeDevice -SerialNumber 'NOPE0000001' -RemovedFromAbm -ErrorAction Stop } | Should -Throw "No device with serial number 'NOPE0000001' is known*"
    }

    It 'Remove-AdeDevice reads the same columns' {
        [pscustomobject]@{ 'Serial Number' = $serials[20] } | Remove-AdeDevice -Confirm:$false 3>$null
        Get-AdeDevice -SerialNumber $serials[20] -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Remove-AdeDevice: one warning per operation' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'remove.db')
        $script:t = New-SimToken -Name 'Removal' -Devices 40
        Sync-AdeDevice -Token Removal | Out-Null
    }

    It 'warns once for 12 devices still in ABM, with the count and the first few serials' {
        $twelve = Get-AdeDevice -Token Removal | Select-Object -First 12
        $twelve | Remove-AdeDevice -Confirm:$false -WarningVariable w 3>$null
        $w.Count | Should -Be 1
        $w[0] | Should -Match '^12 removed devices are still assigned'
        $w[0] | Should -Match ([regex]::Escape($twelve[0].SerialNumber))
        $w[0] | Should -Match 'and 7 more'
        $w[0] | Should -Not -Match '1 devices'
        @(Get-AdeDevice -Token Removal).Count | Should -Be 28
    }

    It '-WhatIf ends with one summary line and removes nothing' {
        $out = Get-AdeDevice -Token Removal | Select-Object -First 3 | Remove-AdeDevice -WhatIf 6>&1 | Out-String
        $out | Should -Match 'What if: 3 devices would be removed from AdeEnrollment'
        @(Get-AdeDevice -Token Removal).Count | Should -Be 28
    }

    It 'a device already released in ABM is removed without a warning and without "it stays in ABM"' {
        $one = (Get-AdeDevice -Token Removal | Select-Object -First 1).SerialNumber
        Remove-AdeSimDevice -Server Removal -SerialNumber $one | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        Sync-AdeDevice -Token Removal | Out-Null
        (Get-AdeDevice -SerialNumber $one).AbmState | Should -Be 'RemovedFromAbm'
        $whatIf = Remove-AdeDevice -SerialNumber $one -WhatIf 6>&1 | Out-String
        $whatIf | Should -Match 'What if: 1 device would be removed from AdeEnrollment\.'
        Remove-AdeDevice -SerialNumber $one -Confirm:$false -WarningVariable w 3>$null
        $w | Should -BeNullOrEmpty
        Get-AdeDevice -SerialNumber $one -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'a serial named twice is removed once (-WhatIf counts the same), and each removal is in the journal' {
        $two = @((Get-AdeDevice -Token Removal | Select-Object -First 2).SerialNumber)
        $rows = $two[0].ToLowerInvariant(), $two[0], $two[1], 'C02NOTKNOWN5'
        $whatIf = $rows | Remove-AdeDevice -WhatIf -ErrorAction SilentlyContinue 6>&1 | Out-String
        $whatIf | Should -Match 'What if: 2 devices would be removed from AdeEnrollment'
        $rows | Remove-AdeDevice -Confirm:$false -ErrorVariable failed -ErrorAction SilentlyContinue 3>$null
        @($failed).Count | Should -Be 1 -Because 'only the unknown serial is an error, not the repeat'
        $failed[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,AdeEnrollment.Commands.RemoveAdeDeviceCommand'
        $events = @(Get-AdeDeviceEvent -SerialNumber $two -Kind Removed)
        $events.SerialNumber | Sort-Object | Should -Be ($two | Sort-Object)
        $events.Detail | Sort-Object -Unique | Should -Be 'StillInAbm'
    }
}

Describe 'Set-AdeDeviceProfile: devices from two tokens with same-named profiles' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'two.db')
        foreach ($n in 'North', 'South') {
            New-SimToken -Name $n -Devices 3 | Out-Null
            Sync-AdeDevice -Token $n | Out-Null
            New-AdeProfile -Token $n -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        }
    }

    It 'resolves the profile name within each device''s token' {
        $r = Get-AdeDevice | Set-AdeDeviceProfile -Profile Staff -ErrorAction Stop
        @($r).Count | Should -Be 6
        $r.Status | Sort-Object -Unique | Should -Be 'Success'
        foreach ($n in 'North', 'South') {
            $p = Get-AdeProfile -Token $n -Name Staff
            @(Get-AdeDevice -Token $n | Where-Object ProfileId -eq $p.Id).Count | Should -Be 3
        }
    }

    It 'a token or profile that crossed a process (Export-Clixml, Start-Job) still stands for itself when piped' {
        $tokenFile = Join-Path $TestDrive 'north.xml'; $profileFile = Join-Path $TestDrive 'staff.xml'
        Get-AdeDevice -Token South | Set-AdeDeviceProfile -Profile Staff | Out-Null
        Get-AdeToken -Name North | Export-Clixml $tokenFile
        Get-AdeProfile -Token South -Name Staff | Export-Clixml $profileFile
        $token = Import-Clixml $tokenFile
        $token.PSTypeNames[0] | Should -Be 'Deserialized.AdeEnrollment.Engine.Model.AdeToken'
        @($token | Get-AdeDevice).Count | Should -Be 3
        @($token | Get-AdeDevice).Token | Sort-Object -Unique | Should -Be 'North'
        @($token | Get-AdeProfile).Name | Should -Be 'Staff'
        @($token | Get-AdeDeviceEvent -Kind Added).Count | Should -Be 3
        @(Import-Clixml $profileFile | Get-AdeDevice).Token | Sort-Object -Unique | Should -Be 'South'
    }

    It 'a CSV exported from Get-AdeDevice keeps the token (TokenId column)' {
        $csv = Join-Path $TestDrive 'devices.csv'
        Get-AdeDevice | Export-Csv $csv -NoTypeInformation
        $r = Import-Csv $csv | Set-AdeDeviceProfile -Profile Staff -WhatIf 6>&1
        ($r | Out-String) | Should -Match 'What if: 6 devices would be assigned profile ''Staff'' on 2 tokens \(6 unchanged\)'
    }

    It 'a token without the profile is an error for its own devices; the other token''s devices are still assigned' {
        New-SimToken -Name 'West' -Devices 2 | Out-Null
        Sync-AdeDevice -Token West | Out-Null
        New-AdeProfile -Token North -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        $west = @((Get-AdeDevice -Token West).SerialNumber)
        $r = @(Get-AdeDevice | Where-Object Token -In 'North', 'West' | Set-AdeDeviceProfile -Profile Kiosk -ErrorVariable failed -ErrorAction SilentlyContinue)
        $r.Token | Sort-Object -Unique | Should -Be 'North'
        $r.Status | Sort-Object -Unique | Should -Be 'Success'
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be "ProfileNotFound,$($cp)SetAdeDeviceProfileCommand"
        $failed[0].Exception.Message | Should -BeLike "*'West'*Its 2 devices ($(($west | Sort-Object) -join ', ')*) got nothing; the devices of the other tokens are still assigned."
        @(Get-AdeDevice -Token West | Where-Object EnrollmentProfileName).Count | Should -Be 0
    }

    It 'plain serials with a name two tokens share are still ProfileAmbiguous (give -Token)' {
        $serial = (Get-AdeDevice -Token North | Select-Object -First 1).SerialNumber
        { $serial | Set-AdeDeviceProfile -Profile Staff -ErrorAction Stop } | Should -Throw -ErrorId "ProfileAmbiguous,$($cp)SetAdeDeviceProfileCommand"
        ($serial | Set-AdeDeviceProfile -Profile Staff -Token North).Status | Should -Be 'Success'
    }
}

Describe 'Profiles: settings as properties, warnings only at risk, confirmation before devices are re-sent a profile' {
    BeforeEach {
        Set-AdeSimClock -Reset
        Connect-AdeStore -Path (Join-Path $TestDrive "p-$([guid]::NewGuid().ToString('N')).db")
        $script:name = "P$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-SimToken -Name $name -Devices 6 | Out-Null
        Set-AdeToken -Token $name -ScopeTag 'Default', 'Sales'
        Sync-AdeDevice -Token $name | Out-Null
        New-AdeProfile -Token $name -Name 'Staff' -UserAffinity WithUserAffinity -AuthenticationMethod SetupAssistantModern -Department 'IT' -DepartmentPhone '+31 20 555 0100' -HiddenScreen Siri, ScreenTime | Out-Null
        New-AdeProfile -Token $name -Name 'Other' -UserAffinity WithUserAffinity | Out-Null
    }

    It 'every setting is a property: Select-Object and Format-List * show settings, never a type name' {
        $p = Get-AdeProfile -Token $name -Name Staff
        ($p | Select-Object Name, Department, DepartmentPhone, InstallCompanyPortal).Department | Should -Be 'IT'
        $p.DepartmentPhone | Should -Be '+31 20 555 0100'
        $p.InstallCompanyPortal | Should -BeTrue
        $list = $p | Format-List * | Out-String
        $list | Should -Not -Match 'AdeEnrollment\.Engine'
        $list | Should -Match 'Department\s+: IT'
        ($p | Format-List | Out-String) | Should -Match 'Department'
    }

    It 'ScopeTags and HiddenScreens export to CSV as text, not System.String[]' {
        $csv = Join-Path $TestDrive 'profiles.csv'
        Get-AdeProfile -Token $name -Name Staff | Export-Csv $csv -NoTypeInformation
        Get-AdeDevice -Token $name | Export-Csv (Join-Path $TestDrive 'd.csv') -NoTypeInformation
        $row = Import-Csv $csv
        $row.ScopeTags | Should -Be 'Default; Sales'
        $row.HiddenScreens | Should -Be 'Siri; ScreenTime'
        (Import-Csv (Join-Path $TestDrive 'd.csv'))[0].ScopeTags | Should -Be 'Default; Sales'
        (Get-Content -Raw $csv) | Should -Not -Match 'System\.'
    }

    It 'files of the current export format still import' {
        $path = Join-Path $TestDrive 'v1.json'
        @{ '$type' = 'AdeEnrollment.Profile'; SchemaVersion = 1; Name = 'Imported'; Settings = @{ UserAffinity = 'WithUserAffinity'; Department = 'Ops'; HiddenScreens = @('Siri') } } |
            ConvertTo-Json -Depth 5 | Set-Content $path
        $p = Import-AdeProfile -Token $name -Path $path
        $p.Department | Should -Be 'Ops'
        $p.HiddenScreens | Should -Be @('Siri')
        $again = Join-Path $TestDrive 'again.json'
        Export-AdeProfile -Profile Imported -Token $name -Path $again
        (Get-Content -Raw $again | ConvertFrom-Json).Settings.Department | Should -Be 'Ops'
    }

    It 'Set-AdeProfile does not warn for a profile no device holds' {
        Set-AdeProfile -Profile Other -Token $name -Department 'Finance' -WarningVariable w 3>$null
        $w | Should -BeNullOrEmpty
        (Get-AdeProfile -Token $name -Name Other).Department | Should -Be 'Finance'
    }

    It 'changing the user affinity of a held profile asks first; a session that cannot ask gets ConfirmationRequired and nothing changes' {
        Get-AdeDevice -Token $name | Set-AdeDeviceProfile -Profile Staff | Out-Null
        $before = (Get-AdeSimRequest -Path '/profile' | Where-Object { $_.Method -eq 'POST' -and $_.Server -eq $name }).Count
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module AdeEnrollment; Set-AdeProfile -Profile Staff -Token '$name' -UserAffinity WithoutUserAffinity").Invoke()
            $ps.Streams.Error.Count | Should -Be 1
            $err = $ps.Streams.Error[0]
        } finally { $ps.Dispose() }
        $err.FullyQualifiedErrorId | Should -Be "ConfirmationRequired,$($cp)SetAdeProfileCommand"
        $err.Exception.Message | Should -Match '6 devices'
        $err.Exception.Message | Should -Match 'AuthenticationMethod \(was SetupAssistantModern\)'
        $err.Exception.Message | Should -Match '-Force'
        (Get-AdeProfile -Token $name -Name Staff).UserAffinity | Should -Be 'WithUserAffinity'
        (Get-AdeSimRequest -Path '/profile' | Where-Object { $_.Method -eq 'POST' -and $_.Server -eq $name }).Count | Should -Be $before
    }

    It 'with -Force (or -Confirm:$false) the change goes ahead and the warning names what was cleared' {
        Get-AdeDevice -Token $name | Set-AdeDeviceProfile -Profile Staff | Out-Null
        $p = Set-AdeProfile -Profile Staff -Token $name -UserAffinity WithoutUserAffinity -Force -PassThru -WarningVariable w 3>$null
        $p.UserAffinity | Should -Be 'WithoutUserAffinity'
        $p.AuthenticationMethod | Should -BeNullOrEmpty
        $w.Count | Should -Be 1
        $w[0] | Should -Match 'cleared AuthenticationMethod \(was SetupAssistantModern\)'
        Set-AdeProfile -Profile Staff -Token $name -UserAffinity WithUserAffinity -Confirm:$false 3>$null
        (Get-AdeProfile -Token $name -Name Staff).UserAffinity | Should -Be 'WithUserAffinity'
    }

    It 'Remove-AdeProfile: devices released from ABM do not hold the profile; devices still in ABM do, with advice that works' {
        $devices = @(Get-AdeDevice -Token $name)
        $devices | Set-AdeDeviceProfile -Profile Other | Out-Null
        $err = { Remove-AdeProfile -Profile Other -Token $name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "ProfileInUse,$($cp)RemoveAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -Match '6 devices still in Apple Business Manager'
        $err.Exception.Message | Should -Not -Match 'Set-AdeDefaultProfile'
        $err.Exception.Message | Should -Match ([regex]::Escape("Get-AdeDevice -Token '$name' -Profile 'Other' | Set-AdeDeviceProfile -Profile <other profile>"))
        Remove-AdeSimDevice -Server $name -SerialNumber $devices.SerialNumber | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        Sync-AdeDevice -Token $name | Out-Null
        @(Get-AdeDevice -Token $name -RemovedFromAbm).Count | Should -Be 6
        Remove-AdeProfile -Profile Other -Token $name -Confirm:$false -ErrorAction Stop
        Get-AdeProfile -Token $name -Name Other -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-AdeDevice -Token $name -RemovedFromAbm).EnrollmentProfileName | Sort-Object -Unique | Should -Be ''
        # and removing the released devices from the store works end to end
        Get-AdeDevice -Token $name -RemovedFromAbm | Remove-AdeDevice -Confirm:$false -WarningVariable w 3>$null
        $w | Should -BeNullOrEmpty
        @(Get-AdeDevice -Token $name).Count | Should -Be 0
    }

    It 'the default profile blocks removal with advice to clear it, counted without "(1)"' {
        Set-AdeDefaultProfile -Token $name -Profile Other
        $err = { Remove-AdeProfile -Profile Other -Token $name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "ProfileInUse,$($cp)RemoveAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -Match "Set-AdeDefaultProfile -Token '$name' -Clear"
        $err.Exception.Message | Should -Not -Match 'Set-AdeDeviceProfile'
    }
}

Describe 'Remove-AdeDevice and the device actions: one device parameter block' {
    It '<Command> takes -SerialNumber, -InputObject and -Token exactly as Remove-AdeDevice does' -ForEach @(
        @{ Command = 'Update-AdeDevice' }
        @{ Command = 'Clear-AdeDeviceProfile' }
        @{ Command = 'Unregister-AdeDevice' }
    ) {
        function Get-Shape([string] $Name) {
            $parameters = (Get-Command $Name).Parameters
            foreach ($p in 'SerialNumber', 'InputObject', 'Token') {
                $attributes = $parameters[$p].Attributes
                $sets = @($attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } |
                    ForEach-Object { "$($_.ParameterSetName):$($_.Mandatory):$($_.Position):$($_.ValueFromPipeline)" })
                $rest = @($attributes | Where-Object { $_ -isnot [System.Management.Automation.ParameterAttribute] } | ForEach-Object { $_.GetType().Name } | Sort-Object)
                "-$p [$($parameters[$p].ParameterType.Name)] sets=$($sets -join ',') aliases=$($parameters[$p].Aliases -join ',') attributes=$($rest -join ',')"
            }
        }

        $shape = Get-Shape $Command
        $shape | Should -Be (Get-Shape 'Remove-AdeDevice')
        $shape[0] | Should -Match 'AllowEmptyStringAttribute'
    }
}
