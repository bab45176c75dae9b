# Enrollment profiles, assignment and default profiles through the cmdlets against the simulator.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 777
    $script:cp = 'AdeEnrollment.Commands.'
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'New-AdeProfile rules on <Provider> (about_AdeEnrollment.md, Enrollment profiles)' -ForEach @(@{ Provider = 'SQLite' }, @{ Provider = 'PostgreSQL' }) {
    BeforeAll {
        $script:rulesStore = New-TestStore -Provider $Provider
        Connect-TestStore $rulesStore
        # One simulator serves both providers' stores, so the ABM server names differ; the token is 'Rules' in each.
        $script:t = New-SimToken -Name "Rules $Provider"
        Set-AdeToken -Token "Rules $Provider" -NewName 'Rules'
    }

    BeforeEach {
        Connect-TestStore $rulesStore
    }

    AfterAll {
        Remove-TestStore $rulesStore
    }

    It 'refuses <Case> with ProfileSettingInvalid naming the setting' -ForEach @(
        @{ Case = 'an authentication method without user affinity'; Setting = 'AuthenticationMethod'; Params = @{ UserAffinity = 'WithoutUserAffinity'; AuthenticationMethod = 'CompanyPortal' } }
        @{ Case = 'Shared iPad with user affinity'; Setting = 'SharedIPad'; Params = @{ UserAffinity = 'WithUserAffinity'; SharedIPad = $true } }
        @{ Case = 'Shared iPad unsupervised'; Setting = 'SharedIPad'; Params = @{ UserAffinity = 'WithoutUserAffinity'; SharedIPad = $true; Supervised = $false } }
        @{ Case = 'locked enrollment unsupervised'; Setting = 'LockedEnrollment'; Params = @{ UserAffinity = 'WithUserAffinity'; LockedEnrollment = $true; Supervised = $false } }
        @{ Case = '25 cached users'; Setting = 'MaximumCachedUsers'; Params = @{ UserAffinity = 'WithoutUserAffinity'; SharedIPad = $true; MaximumCachedUsers = 25 } }
        @{ Case = 'cached users without Shared iPad'; Setting = 'MaximumCachedUsers'; Params = @{ UserAffinity = 'WithoutUserAffinity'; MaximumCachedUsers = 5 } }
        @{ Case = 'a grace period over 4 hours'; Setting = 'PasscodeLockGracePeriodSeconds'; Params = @{ UserAffinity = 'WithoutUserAffinity'; SharedIPad = $true; PasscodeLockGracePeriodSeconds = 14401 } }
        @{ Case = 'a 29 second session timeout'; Setting = 'UserSessionTimeoutSeconds'; Params = @{ UserAffinity = 'WithoutUserAffinity'; SharedIPad = $true; UserSessionTimeoutSeconds = 29 } }
        @{ Case = 'a temporary session timeout without temporary sessions'; Setting = 'TemporarySessionTimeoutSeconds'; Params = @{ UserAffinity = 'WithoutUserAffinity'; SharedIPad = $true; TemporarySessionTimeoutSeconds = 60 } }
        @{ Case = 'AllowByCertificate without a certificate'; Setting = 'SyncWithComputers'; Params = @{ UserAffinity = 'WithUserAffinity'; SyncWithComputers = 'AllowByCertificate' } }
        @{ Case = 'a 64-character device name template'; Setting = 'DeviceNameTemplate'; Params = @{ UserAffinity = 'WithUserAffinity'; DeviceNameTemplate = ('x' * 64) } }
        @{ Case = 'an unknown template variable'; Setting = 'DeviceNameTemplate'; Params = @{ UserAffinity = 'WithUserAffinity'; DeviceNameTemplate = 'iPad-{{IMEI}}' } }
        @{ Case = 'an http cellular data plan URL'; Setting = 'CellularDataPlanUrl'; Params = @{ UserAffinity = 'WithUserAffinity'; CellularDataPlanUrl = 'http://carrier.example' } }
        @{ Case = 'a 51-character phone number'; Setting = 'DepartmentPhone'; Params = @{ UserAffinity = 'WithUserAffinity'; DepartmentPhone = ('1' * 51) } }
        @{ Case = 'single app mode without a VPP token'; Setting = 'RunCompanyPortalInSingleAppMode'; Params = @{ UserAffinity = 'WithUserAffinity'; RunCompanyPortalInSingleAppMode = $true } }
        @{ Case = 'a terminal escape in the department'; Setting = 'Department'; Params = @{ UserAffinity = 'WithUserAffinity'; Department = "IT`e[31m" } }
        @{ Case = 'a title-setting escape in the description'; Setting = 'Description'; Params = @{ UserAffinity = 'WithUserAffinity'; Description = "d`e]0;PWNED`a" } }
        @{ Case = 'two panes in one text (once read as another pane)'; Setting = 'HiddenScreen'; Params = @{ UserAffinity = 'WithUserAffinity'; HiddenScreen = 'LocationServices,Restore' } }
        @{ Case = 'a pane by number'; Setting = 'HiddenScreen'; Params = @{ UserAffinity = 'WithUserAffinity'; HiddenScreen = '+5' } }
    ) {
        $before = @(Get-AdeProfile -Token Rules).Count
        $err = { New-AdeProfile -Token Rules -Name "Bad $Setting" @Params -ErrorAction Stop } | Should -Throw -ErrorId "ProfileSettingInvalid,$($cp)NewAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -Match ([regex]::Escape("-$Setting"))
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        @(Get-AdeProfile -Token Rules).Count | Should -Be $before
    }

    It 'a profile given to -Token stands for its token' {
        $source = New-AdeProfile -Token Rules -Name 'Source profile' -UserAffinity WithUserAffinity
        (New-AdeProfile -Token $source -Name 'Beside it' -UserAffinity WithoutUserAffinity).Token | Should -Be 'Rules'
    }

    It 'a profile without -UserAffinity is refused saying it is required' {
        $err = { New-AdeProfile -Token Rules -Name 'No affinity' -ErrorAction Stop } | Should -Throw -ErrorId "ProfileSettingInvalid,$($cp)NewAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -Match '^-UserAffinity is required: choose WithUserAffinity or WithoutUserAffinity'
    }

    It 'warns (without failing) where the profile rules say warn' {
        $p = New-AdeProfile -Token Rules -Name 'Warned' -UserAffinity WithoutUserAffinity -SharedIPad -RequireTemporarySession -MaximumCachedUsers 4 -HiddenScreen Passcode -WarningVariable w 3>$null
        $p.SharedIPad | Should -BeTrue
        ($w -join "`n") | Should -Match '13\.4'
        ($w -join "`n") | Should -Match 'RequireTemporarySession cancels'
        ($w -join "`n") | Should -Match '14\.5'
        New-AdeProfile -Token Rules -Name 'Unsupervised' -UserAffinity WithUserAffinity -Supervised:$false -WarningVariable w2 3>$null | Out-Null
        ($w2 -join ' ') | Should -Match 'supervised regardless'
        ($w2 -join ' ') | Should -Match 'ignore AwaitFinalConfiguration'
        # a later change does not repeat what the profile already warned about
        Set-AdeProfile -Token Rules -Profile 'Unsupervised' -NewName 'Unsupervised 2' -Department 'Ops' -WarningVariable w3 3>$null
        $w3 | Should -BeNullOrEmpty
        Set-AdeProfile -Token Rules -Profile 'Unsupervised 2' -CompanyPortalVppToken 'Contoso VPP' -WarningVariable w4 3>$null
        ($w4 -join ' ') | Should -Match "VPP token 'Contoso VPP'"
        ($w4 -join ' ') | Should -Not -Match 'supervised regardless'
    }

    It 'keeps names unique per token (ProfileNameConflict) and tab-completes enum values' {
        New-AdeProfile -Token Rules -Name 'Unique' -UserAffinity WithUserAffinity | Out-Null
        { New-AdeProfile -Token Rules -Name 'unique' -UserAffinity WithUserAffinity -ErrorAction Stop } | Should -Throw -ErrorId "ProfileNameConflict,$($cp)NewAdeProfileCommand"
        $completion = TabExpansion2 -inputScript 'New-AdeProfile -UserAffinity With' -cursorColumn 'New-AdeProfile -UserAffinity With'.Length
        $completion.CompletionMatches.CompletionText | Should -Contain 'WithoutUserAffinity'
        $completion = TabExpansion2 -inputScript 'Get-AdeProfile -Token Ru' -cursorColumn 'Get-AdeProfile -Token Ru'.Length
        $completion.CompletionMatches.CompletionText | Should -Contain 'Rules'
    }

    It 'a profile of another token, given by Id or as an object, is refused naming the token it belongs to' {
        $other = New-SimToken -Name "Other $Provider $([guid]::NewGuid().ToString('N').Substring(0, 4))"
        Set-AdeToken -Token $other.Token -EnrollmentUrl 'https://mdm.contoso.example/enroll'
        $theirs = New-AdeProfile -Token $other.Token -Name 'Theirs' -UserAffinity WithUserAffinity
        $err = { Get-AdeProfile -Token Rules -Name $theirs.Id -ErrorAction Stop } | Should -Throw -ErrorId "ProfileNotFound,$($cp)GetAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -BeLike "*'Theirs' belongs to token '$($other.Token.Name)', not to token 'Rules'*"
        (Get-AdeProfile -Name $theirs.Id).Name | Should -Be 'Theirs'
        $err = { Set-AdeDefaultProfile -Token Rules -Profile $theirs -ErrorAction Stop } | Should -Throw -ErrorId "ProfileNotFound,$($cp)SetAdeDefaultProfileCommand" -PassThru
        $err.Exception.Message | Should -Not -Match $theirs.Id
        { Get-AdeProfile -Token Rules -Name 'Theirs' -ErrorAction Stop } | Should -Throw "*Token 'Rules' has no enrollment profile 'Theirs'*"
    }

    It '-Name takes several names or Ids: each profile once, in the order of the names; an unknown name is its own error' {
        $a = New-AdeProfile -Token Rules -Name "Multi A $([guid]::NewGuid().ToString('N').Substring(0, 4))" -UserAffinity WithUserAffinity
        $b = New-AdeProfile -Token Rules -Name "Multi B $([guid]::NewGuid().ToString('N').Substring(0, 4))" -UserAffinity WithoutUserAffinity
        $got = @(Get-AdeProfile -Token Rules -Name $b.Name, 'No such profile', $a.Id, $b.Name -ErrorVariable e -ErrorAction SilentlyContinue)
        $got.Name | Should -Be @($b.Name, $a.Name)
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be "ProfileNotFound,$($cp)GetAdeProfileCommand"
        @(Get-AdeProfile -Token Rules -Name 'Multi A*', 'Multi *').Name | Should -Be @($a.Name, $b.Name)
    }

    It 'takes piped tokens (their profiles), profile names or Ids and profiles; anything else is its own error' {
        $a = New-AdeProfile -Token Rules -Name "Piped A $([guid]::NewGuid().ToString('N').Substring(0, 4))" -UserAffinity WithUserAffinity
        $b = New-AdeProfile -Token Rules -Name "Piped B $([guid]::NewGuid().ToString('N').Substring(0, 4))" -UserAffinity WithoutUserAffinity
        @(Get-AdeToken -Name Rules | Get-AdeProfile -Name 'Piped *').Name | Should -Be @($a.Name, $b.Name)
        # a piped string is a profile name (or Id), as -Name takes it; not a token name
        @($b.Name, $a.Id.ToString() | Get-AdeProfile).Name | Should -Be @($b.Name, $a.Name)
        @($a.Name | Get-AdeProfile -Token Rules).Id | Should -Be @($a.Id)
        @($a, $b | Get-AdeProfile).Name | Should -Be @($a.Name, $b.Name)
        @([guid]$b.Id | Get-AdeProfile).Name | Should -Be @($b.Name)
        @(Get-AdeProfile -InputObject @($b.Name, $a)).Name | Should -Be @($b.Name, $a.Name)
        $got = @('No such profile', $a.Name, 42 | Get-AdeProfile -ErrorVariable e -ErrorAction SilentlyContinue)
        $got.Name | Should -Be @($a.Name)
        @($e.FullyQualifiedErrorId) | Should -Be @("ProfileNotFound,$($cp)GetAdeProfileCommand", "ArgumentInvalid,$($cp)GetAdeProfileCommand")
        { $a.Name | Get-AdeProfile -Token 'No such token' -ErrorAction Stop } | Should -Throw -ErrorId "TokenNotFound,$($cp)GetAdeProfileCommand"
    }

    It 'treats names that differ only by case outside A-Z as one name, for profiles and tokens' {
        New-AdeProfile -Token Rules -Name 'Élèves' -UserAffinity WithUserAffinity | Out-Null
        { New-AdeProfile -Token Rules -Name 'ÉLÈVES' -UserAffinity WithUserAffinity -ErrorAction Stop } | Should -Throw -ErrorId "ProfileNameConflict,$($cp)NewAdeProfileCommand"
        (Get-AdeProfile -Token Rules -Name 'élèves').Name | Should -Be 'Élèves'
        New-SimToken -Name "Ärzte $Provider" | Out-Null
        try {
            { Set-AdeToken -Token Rules -NewName "ÄRZTE $Provider" -ErrorAction Stop } | Should -Throw -ErrorId "TokenNameConflict,$($cp)SetAdeTokenCommand"
            (Get-AdeToken -Name "ärzte $Provider").Name | Should -Be "Ärzte $Provider"
            @(Get-AdeToken -Name 'Rules').Count | Should -Be 1
        } finally {
            Remove-AdeToken -Token "Ärzte $Provider" -Confirm:$false
        }
    }

    It 'piped tokens each get the profile: a name taken on one is that token''s error, the next still gets it' {
        New-SimToken -Name "Second $Provider" | Out-Null
        New-AdeProfile -Token Rules -Name 'Everywhere' -UserAffinity WithUserAffinity | Out-Null
        $made = @(Get-AdeToken | Where-Object Name -In 'Rules', "Second $Provider" | Sort-Object Name |
            New-AdeProfile -Name 'Everywhere' -UserAffinity WithUserAffinity -ErrorVariable refused -ErrorAction SilentlyContinue)
        @($refused).Count | Should -Be 1
        $refused[0].FullyQualifiedErrorId | Should -Be "ProfileNameConflict,$($cp)NewAdeProfileCommand"
        $made.Token | Should -Be "Second $Provider"
    }

    It 'lists names in the same order on every store: only A-Z fold, the rest byte by byte' {
        $names = 'äa', 'Zahn', 'a_1', 'Äb', 'a1'
        foreach ($n in $names) { New-AdeProfile -Token Rules -Name $n -UserAffinity WithUserAffinity | Out-Null }
        @(Get-AdeProfile -Token Rules | Where-Object Name -In $names).Name | Should -Be @('a1', 'a_1', 'Zahn', 'Äb', 'äa')
    }

    It 'refuses the 1001st profile on a token (ProfileLimitReached)' {
        $limitStore = New-TestStore -Provider $Provider -Connect
        try {
            $lt = New-SimToken -Name "Limit $Provider"
            Add-TestStoreProfiles $limitStore $lt.Token.Id 1000
            { New-AdeProfile -Token "Limit $Provider" -Name 'One too many' -UserAffinity WithUserAffinity -ErrorAction Stop } | Should -Throw -ErrorId "ProfileLimitReached,$($cp)NewAdeProfileCommand"
            Invoke-TestStoreSql $limitStore "SELECT count(*) FROM profile WHERE token_id = '$($lt.Token.Id)'" | Should -Be 1000
        } finally {
            Remove-TestStore $limitStore
        }
    }
}

# On both providers: the same rules through the same cmdlets on a SQLite file and on a PostgreSQL schema.
Describe 'Profiles, assignment and default profile end to end (<Provider>)' -ForEach @(@{ Provider = 'SQLite' }, @{ Provider = 'PostgreSQL' }) {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        $script:store = New-TestStore -Provider $Provider -Connect
        $script:name = "E2E $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $script:t = New-SimToken -Name $name -Devices 0
        Add-AdeSimDevice -Server $name -Count 2500 -DeviceFamily iPad | Out-Null # Kiosk is a Shared iPad profile: an iPad fleet
        $script:staff = New-AdeProfile -Token $name -Name 'Staff' -UserAffinity WithUserAffinity -AuthenticationMethod SetupAssistantModern -Department 'IT' -DepartmentPhone '+31 20 555 0100' -HiddenScreen Siri, ScreenTime
        $script:kiosk = New-AdeProfile -Token $name -Name 'Kiosk' -UserAffinity WithoutUserAffinity -SharedIPad -MaximumCachedUsers 8 -LockedEnrollment 3>$null
    }

    AfterEach {
        if ($store) { Remove-TestStore $store; $script:store = $null }
    }

    It 'the default profile is given to every device a full sync brings, in batches of at most 1000' {
        Set-AdeDefaultProfile -Token $name -Profile Staff
        (Get-AdeProfile -Token $name -Default).Name | Should -Be 'Staff'
        $r = Sync-AdeDevice -Token $name
        $r.DefaultProfileAssigned | Should -Be 2500
        @(Get-AdeDevice -Token $name -Profile Staff).Count | Should -Be 2500
        (Get-AdeSimDevice -Server $name | Where-Object ProfileStatus -eq 'assigned').Count | Should -Be 2500
        Get-AdeSimRequest -Path '/profile/devices' | Where-Object DeviceCount -gt 1000 | Should -BeNullOrEmpty
        (Get-AdeSimRequest -Path '/profile/devices' | Where-Object Server -eq $name).Count | Should -Be 3
        (Get-AdeSimRequest -Path '/profile' | Where-Object { $_.Method -eq 'POST' -and $_.Server -eq $name }).Count | Should -Be 1
        Add-AdeSimDevice -Server $name -Count 4 | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        (Sync-AdeDevice -Token $name).DefaultProfileAssigned | Should -Be 4
    }

    It 'a profile name of quotes, commas, braces, backslashes and the word NULL reaches the devices and the journal as typed' {
        # A batch's columns reach the store as array text on PostgreSQL (docs/architecture.md, "Batches as array text"):
        # every character that syntax gives a meaning to must come back as typed, through the sync's page writes (the
        # default profile's attempts) and an assignment's journal rows.
        $odd = 'Staff "A", {B} \C NULL'
        New-AdeProfile -Token $name -Name $odd -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeDefaultProfile -Token $name -Profile $odd
        (Sync-AdeDevice -Token $name).DefaultProfileAssigned | Should -Be 2500
        $devices = @(Get-AdeDevice -Token $name -Profile $odd)
        $devices.Count | Should -Be 2500
        @($devices.LastAssignmentProfile | Sort-Object -Unique) | Should -Be @($odd)
        $three = $devices[0..2].SerialNumber
        ($three | Set-AdeDeviceProfile -Profile Kiosk -Token $name).Status | Should -Be @('Success', 'Success', 'Success')
        ($three | Set-AdeDeviceProfile -Profile $odd -Token $name).Status | Should -Be @('Success', 'Success', 'Success')
        foreach ($serial in $three) {
            $assigned = @(Get-AdeDeviceEvent -SerialNumber $serial | Where-Object Kind -eq 'ProfileAssigned')
            $assigned[-1].Detail | Should -Be "${odd}: SUCCESS"
            (Get-AdeDevice -SerialNumber $serial).EnrollmentProfileName | Should -Be $odd
        }
    }

    It 'assigns a CSV of serials in batches, with per-device results' {
        Sync-AdeDevice -Token $name | Out-Null
        $serials = (Get-AdeDevice -Token $name | Select-Object -First 1200).SerialNumber
        $csv = Join-Path $TestDrive 'serials.csv'
        ($serials | ForEach-Object { [pscustomobject]@{ SerialNumber = " $($_.ToLowerInvariant()) " } }) + [pscustomobject]@{ SerialNumber = $serials[0] } + [pscustomobject]@{ SerialNumber = 'UNKNOWN00001' } |
            Export-Csv $csv -NoTypeInformation
        $results = Import-Csv $csv | Set-AdeDeviceProfile -Profile Kiosk -Token $name -WarningVariable warned -WarningAction SilentlyContinue
        $results.Count | Should -Be 1201
        # a device that did not get the profile is one summary warning, so a script that logs warnings knows
        @($warned).Count | Should -Be 1
        "$warned" | Should -Match "^1 device of 1,201 did not get profile 'Kiosk': 1 UnknownDevice \(not among the devices of the profile's token"
        ($results | Where-Object Status -eq 'Success').Count | Should -Be 1200
        ($results | Where-Object SerialNumber -eq 'UNKNOWN00001').Status | Should -Be 'UnknownDevice'
        (Get-AdeSimRequest -Path '/profile/devices' | Where-Object Server -eq $name).DeviceCount | Should -Be @(1000, 200)
        @(Get-AdeDevice -Profile Kiosk -Token $name).Count | Should -Be 1200
        (Get-AdeProfile -Token $name -Name Kiosk).DeviceCount | Should -Be 1200
    }

    It 'writes each result as an object of its own; Select-Object -First 1 stops it and the store still matches Apple' {
        Sync-AdeDevice -Token $name | Out-Null
        $serials = (Get-AdeDevice -Token $name).SerialNumber
        $first = @(Set-AdeDeviceProfile -Profile Staff -Token $name -SerialNumber $serials | Select-Object -First 1)
        $first.Count | Should -Be 1
        $first[0].GetType().Name | Should -Be 'AdeAssignmentResult'
        $atApple = @(Get-AdeSimDevice -Server $name | Where-Object ProfileStatus -eq 'assigned').SerialNumber | Sort-Object
        $atApple.Count | Should -BeGreaterOrEqual 1000
        @(Get-AdeDevice -Token $name -Profile Staff).SerialNumber | Sort-Object | Should -Be $atApple
        $all = Set-AdeDeviceProfile -Profile Kiosk -Token $name -SerialNumber $serials
        $all.Count | Should -Be 2500
        @($all | ForEach-Object { $_.GetType().Name } | Sort-Object -Unique) | Should -Be @('AdeAssignmentResult')
        @($all | Where-Object Status -eq 'Success').Count | Should -Be 2500
        (Get-AdeProfile -Token $name -Name Kiosk).DeviceCount | Should -Be 2500
    }

    It '-WhatIf shows current -> new profile per device and sends nothing' {
        Sync-AdeDevice -Token $name | Out-Null
        $two = Get-AdeDevice -Token $name | Select-Object -First 2
        $two | Set-AdeDeviceProfile -Profile Staff -Token $name | Out-Null
        $out = $two | Set-AdeDeviceProfile -Profile Kiosk -Token $name -WhatIf 6>&1 | Out-String
        Get-AdeSimRequest -Path '/profile/devices' | Where-Object Server -eq $name | Should -HaveCount 1
        @(Get-AdeDevice -Profile Kiosk -Token $name).Count | Should -Be 0
        # what it would not send is counted in its summary line, not written as results or warnings
        $written = @(@($two.SerialNumber) + 'C02NOTKNOWN9' | Set-AdeDeviceProfile -Profile Kiosk -Token $name -WhatIf -WarningVariable warned 6>&1)
        @($written | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] }) | Should -BeNullOrEmpty
        @($warned).Count | Should -Be 0
        "$($written[-1])" | Should -Be "What if: 2 devices would be assigned profile 'Kiosk' on token '$name' (0 unchanged; 1 serial unknown to AdeEnrollment)."
    }

    It 'retries THROTTLED serials after Apple''s wait and holds FAILED ones for 24 hours' {
        Sync-AdeDevice -Token $name | Out-Null
        $serials = (Get-AdeDevice -Token $name | Select-Object -First 3).SerialNumber
        Set-AdeSimFault -Server $name -SerialNumber $serials[0] -DeviceStatus Throttled -Count 1 -RetryAfterSeconds 1
        Set-AdeSimFault -Server $name -SerialNumber $serials[1] -DeviceStatus Failed
        $r = $serials | Set-AdeDeviceProfile -Profile Staff -Token $name
        ($r | Where-Object SerialNumber -eq $serials[0]).Status | Should -Be 'Success'
        $failed = $r | Where-Object SerialNumber -eq $serials[1]
        $failed.Status | Should -Be 'Failed'
        $failed.RetryAfter | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddHours(23))
        ($r | Where-Object SerialNumber -eq $serials[2]).Status | Should -Be 'Success'
        Clear-AdeSimFault
        $before = (Get-AdeSimRequest -Path '/profile/devices' | Where-Object Server -eq $name).Count
        ($serials[1] | Set-AdeDeviceProfile -Profile Staff -Token $name).Status | Should -Be 'Failed'
        (Get-AdeSimRequest -Path '/profile/devices' | Where-Object Server -eq $name).Count | Should -Be $before
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 24)
        ($serials[1] | Set-AdeDeviceProfile -Profile Staff -Token $name).Status | Should -Be 'Success'
    }

    It 'Set-AdeProfile warns only about devices that received the profile, except for the name template' {
        Sync-AdeDevice -Token $name | Out-Null
        $five = Get-AdeDevice -Token $name | Select-Object -First 5
        $five | Set-AdeDeviceProfile -Profile Staff -Token $name | Out-Null
        Set-AdeProfile -Profile Staff -Token $name -DeviceNameTemplate 'STAFF-{{SERIAL}}' -Force -WarningVariable w 3>$null
        $w | Should -BeNullOrEmpty
        # assigned but not yet received: the devices get the new definition, nothing is at risk
        Set-AdeProfile -Profile Staff -Token $name -Department 'Finance' -Force -WarningVariable w 3>$null
        $w | Should -BeNullOrEmpty
        Invoke-TestStoreSql $store "UPDATE device SET profile_status = 'pushed' WHERE serial_number IN ('$($five[0].SerialNumber)', '$($five[1].SerialNumber)')" | Out-Null
        Set-AdeProfile -Profile Staff -Token $name -Department 'Sales' -Force -WarningVariable w 3>$null
        $w.Count | Should -Be 1
        $w[0] | Should -Match "^2 devices already received profile 'Staff'"
        $w[0] | Should -Match 'factory reset'
    }

    It 'a change whose definition Apple refuses is ProfileDefinitionRefused naming the setting, and is not kept' {
        Sync-AdeDevice -Token $name | Out-Null
        $devices = @(Get-AdeDevice -Token $name | Select-Object -First 3)
        $devices | Set-AdeDeviceProfile -Profile Staff -Token $name | Out-Null
        $before = Get-AdeProfile -Name Staff -Token $name
        Set-AdeSimFault -Endpoint '/profile' -Method POST -StatusCode 400 -Body 'DEPARTMENT_INVALID' -Count 1 | Out-Null
        $err = $null
        try { Set-AdeProfile -Profile Staff -Token $name -Department 'Finance' -Force -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProfileDefinitionRefused,AdeEnrollment.Commands.SetAdeProfileCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*DEPARTMENT_INVALID*-Department*kept as it was*'
        $after = Get-AdeProfile -Name Staff -Token $name
        ($after.Department, $after.AppleProfileUuid, $after.ModifiedAt) | Should -Be @($before.Department, $before.AppleProfileUuid, $before.ModifiedAt)
        (Get-AdeSimProfile -Server $name -ProfileUuid $before.AppleProfileUuid).Keys.department | Should -Be 'IT'
        Test-AdeProfile -Profile Staff -Token $name | ForEach-Object State | Should -Be 'InSync'
    }

    It 'a change whose re-assignment Apple refuses is redone by the next assignment of the profile, until every holder has it' {
        Sync-AdeDevice -Token $name | Out-Null
        $devices = @(Get-AdeDevice -Token $name | Select-Object -First 4)
        $devices[0..2] | Set-AdeDeviceProfile -Profile Staff -Token $name | Out-Null
        Set-AdeSimFault -Endpoint '/profile/devices' -StatusCode 400 -Count 1 -Method POST | Out-Null
        { Set-AdeProfile -Profile Staff -Token $name -Department 'Finance' -Force -ErrorAction Stop } | Should -Throw
        $devices[3] | Set-AdeDeviceProfile -Profile Staff -Token $name | Out-Null
        $uuid = (Get-AdeProfile -Name Staff -Token $name).AppleProfileUuid
        $holders = @(Get-AdeSimDevice -Server $name | Where-Object SerialNumber -In $devices.SerialNumber)
        $holders.Count | Should -Be 4
        $holders.ProfileUuid | Sort-Object -Unique | Should -Be $uuid
        Test-AdeProfile -Profile Staff -Token $name | ForEach-Object State | Should -Be 'InSync'
    }

    It 'exports and imports profiles losslessly, and import validates like New-AdeProfile' {
        $path = Join-Path $TestDrive 'kiosk.json'
        Export-AdeProfile -Profile Kiosk -Token $name -Path $path -WhatIf
        Test-Path $path | Should -BeFalse -Because '-WhatIf writes no file'
        Export-AdeProfile -Profile Kiosk -Token $name -Path $path
        $json = Get-Content -Raw $path | ConvertFrom-Json
        $json.SchemaVersion | Should -Be 2
        $json.Settings.Platform | Should -Be 'iOS'
        $json.Settings.SharedIPad | Should -BeTrue
        $other = New-SimToken -Name "$name copy"
        $copy = Import-AdeProfile -Token "$name copy" -Path $path 3>$null
        (Export-AdeProfile -Profile $copy.Id) | Should -Be (Export-AdeProfile -Profile Kiosk -Token $name)
        $json.Settings.MaximumCachedUsers = 99
        $json | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $TestDrive 'bad.json')
        { Import-AdeProfile -Token "$name copy" -Path (Join-Path $TestDrive 'bad.json') -Name 'Bad' -ErrorAction Stop } | Should -Throw -ErrorId "ProfileSettingInvalid,$($cp)ImportAdeProfileCommand"
        Set-Content (Join-Path $TestDrive 'junk.json') '{ "not": "a profile" }'
        $err = { Import-AdeProfile -Token "$name copy" -Path (Join-Path $TestDrive 'junk.json') -ErrorAction Stop } | Should -Throw -ErrorId "ProfileFileInvalid,$($cp)ImportAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -BeLike "*it has a member 'not' that a profile export does not have (line 1, column *"
        # a setting written beside "Settings" instead of in it is named as such, in the file's terms (no .NET type names)
        $json.Settings.MaximumCachedUsers = 10
        $json | Add-Member -NotePropertyName SharedIPad -NotePropertyValue $true
        $json | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $TestDrive 'beside.json')
        $err = { Import-AdeProfile -Token "$name copy" -Path (Join-Path $TestDrive 'beside.json') -ErrorAction Stop } | Should -Throw -ErrorId "ProfileFileInvalid,$($cp)ImportAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -BeLike "*'SharedIPad' is a setting, and settings go inside ""Settings"" (line *"
        $err.Exception.Message | Should -Not -Match 'AdeEnrollment\.Engine'
        # a member given twice (which value is meant is not guessed), and a file without $type
        (Get-Content -Raw $path) -replace '"Name":', '"Name": "Other", "Name":' | Set-Content (Join-Path $TestDrive 'twice.json')
        $err = { Import-AdeProfile -Token "$name copy" -Path (Join-Path $TestDrive 'twice.json') -ErrorAction Stop } | Should -Throw -ErrorId "ProfileFileInvalid,$($cp)ImportAdeProfileCommand" -PassThru
        $err.Exception.Message | Should -BeLike "*'Name' is given twice (line *"
        (Get-Content -Raw $path) -replace '"\$type":\s*"AdeEnrollment.Profile",?', '' | Set-Content (Join-Path $TestDrive 'untyped.json')
        { Import-AdeProfile -Token "$name copy" -Path (Join-Path $TestDrive 'untyped.json') -Name 'Untyped' -ErrorAction Stop } | Should -Throw -ErrorId "ProfileFileInvalid,$($cp)ImportAdeProfileCommand"
        # several profiles piped to one file: the first is written, the next ones are errors (a file holds one profile)
        $both = Join-Path $TestDrive 'both.json'
        Get-AdeProfile -Token $name | Sort-Object Name | Export-AdeProfile -Path $both -ErrorVariable refused -ErrorAction SilentlyContinue
        @($refused).Count | Should -Be 1
        $refused[0].FullyQualifiedErrorId | Should -Be "ArgumentInvalid,$($cp)ExportAdeProfileCommand"
        (Get-Content -Raw $both | ConvertFrom-Json).Name | Should -Be 'Kiosk'
    }

    It 'Remove-AdeProfile refuses while the profile is in use; Remove-AdeToken names profiles, default and devices' {
        Set-AdeDefaultProfile -Token $name -Profile Kiosk
        { Remove-AdeProfile -Profile Kiosk -Token $name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "ProfileInUse,$($cp)RemoveAdeProfileCommand"
        Sync-AdeDevice -Token $name | Out-Null
        $err = { Remove-AdeToken -Token $name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "TokenHasDependents,$($cp)RemoveAdeTokenCommand" -PassThru
        $err.Exception.Message | Should -Match '2,500 devices'
        $err.Exception.Message | Should -Match 'default profile'
        $err.Exception.Message | Should -Match '2 profiles'
        # a piped profile stands for its token (as with Set-AdeToken), never for a token whose Id is the profile's
        $err = { Get-AdeProfile -Token $name -Name Kiosk | Remove-AdeToken -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "TokenHasDependents,$($cp)RemoveAdeTokenCommand" -PassThru
        $err.Exception.Message | Should -Match '2 profiles'
        Set-AdeDefaultProfile -Token $name -Clear
        { Remove-AdeProfile -Profile Kiosk -Token $name -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "ProfileInUse,$($cp)RemoveAdeProfileCommand"
        Remove-AdeProfile -Profile Staff -Token $name -Confirm:$false
        @(Get-AdeProfile -Token $name).Name | Should -Be @('Kiosk')
    }
}
