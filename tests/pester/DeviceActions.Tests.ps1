# Device actions (clear, refresh, release), the change journal and Test-AdeHealth through the built modules.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 4242
    $script:cp = 'AdeEnrollment.Commands.'
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Clear-AdeDeviceProfile, Update-AdeDevice, Unregister-AdeDevice' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'actions.db')
        New-SimToken -Name 'Actions' -Devices 6 | Out-Null
        Sync-AdeDevice -Token Actions | Out-Null
        New-AdeProfile -Token Actions -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        $script:serials = @((Get-AdeDevice -Token Actions).SerialNumber)
        Set-AdeDeviceProfile -Profile Staff -SerialNumber $serials | Out-Null
    }

    It 'Clear-AdeDeviceProfile -WhatIf names each device and its profile, then one summary; nothing changes' {
        $out = Get-AdeDevice -Token Actions | Select-Object -First 2 | Clear-AdeDeviceProfile -WhatIf 6>&1 | Out-String
        $out | Should -Match 'What if: 2 devices would have their enrollment profile cleared at Apple\.'
        # PowerShell writes the per-device "What if:" lines to the host: a child process shows them on its output.
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $child = & $pwsh -NoProfile -NonInteractive -Command "Connect-AdeStore -Path '$((Get-AdeStore).Path)'; Get-AdeDevice -Token Actions | Select-Object -First 2 | Clear-AdeDeviceProfile -WhatIf" | Out-String
        ([regex]::Matches($child, "What if: Performing the operation `"Clear the enrollment profile at Apple \(now: 'Staff'\)`" on target `"[A-Z0-9]+ \(token 'Actions'\)`"")).Count | Should -Be 2
        @(Get-AdeDevice -Token Actions -Unassigned).Count | Should -Be 0
        # an unknown serial under -WhatIf is counted in the summary, not written as a result
        $written = @(@((Get-AdeDevice -Token Actions | Select-Object -First 1).SerialNumber, 'C02NOTKNOWN7') | Clear-AdeDeviceProfile -WhatIf 6>&1)
        @($written | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] }) | Should -BeNullOrEmpty
        "$($written[-1])" | Should -Be 'What if: 1 device would have its enrollment profile cleared at Apple (1 serial unknown to AdeEnrollment).'
    }

    It 'Clear-AdeDeviceProfile takes CSV rows and reports per device; the store and the journal follow' {
        $csv = Join-Path $TestDrive 'clear.csv'
        @([pscustomobject]@{ 'Serial Number' = $serials[0] }, [pscustomobject]@{ 'Serial Number' = 'C02NOTKNOWN1' }) | Export-Csv $csv -NoTypeInformation
        $r = @(Import-Csv $csv | Clear-AdeDeviceProfile -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue)
        $r.Count | Should -Be 2
        # a serial the store does not know (a typo) is in the closing warning too, not only in its result
        "$($warned[-1])" | Should -BeLike '1 device of 2 was not cleared: 1 UnknownDevice (not a device of AdeEnrollment''s store*C02NOTKNOWN1*'
        $r[0].PSTypeNames | Should -Contain 'AdeEnrollment.Engine.Devices.AdeDeviceActionResult'
        ($r | Where-Object SerialNumber -eq $serials[0]).Status | Should -Be 'Success'
        ($r | Where-Object SerialNumber -eq $serials[0]).PreviousProfile | Should -Be 'Staff'
        ($r | Where-Object SerialNumber -eq 'C02NOTKNOWN1').Status | Should -Be 'UnknownDevice'
        (Get-AdeDevice -SerialNumber $serials[0]).EnrollmentProfileName | Should -Be ''
        (Get-AdeSimDevice -Server Actions | Where-Object SerialNumber -eq $serials[0]).ProfileStatus | Should -Be 'removed'
        (Get-AdeDeviceEvent -SerialNumber $serials[0] -Kind ProfileCleared).Detail | Should -Be 'Staff'
    }

    It 'a device whose profile was cleared does not get the token''s default profile back, not even from a full sync' {
        New-SimToken -Name 'Cleared' -Devices 3 | Out-Null
        New-AdeProfile -Token Cleared -Name 'Default' -UserAffinity WithUserAffinity | Out-Null
        Set-AdeDefaultProfile -Token Cleared -Profile Default
        (Sync-AdeDevice -Token Cleared).DefaultProfileAssigned | Should -Be 3
        $d = (Get-AdeDevice -Token Cleared)[0]
        ($d | Clear-AdeDeviceProfile -Confirm:$false).Status | Should -Be 'Success'
        Set-AdeSimClock -Advance 7d
        $full = Sync-AdeDevice -Token Cleared -Full
        $full.DefaultProfileAssigned | Should -Be 0
        (Get-AdeDevice -SerialNumber $d.SerialNumber).EnrollmentProfileName | Should -Be ''
        (Get-AdeSimDevice -Server Cleared | Where-Object SerialNumber -eq $d.SerialNumber).ProfileUuid | Should -BeNullOrEmpty
        @(Get-AdeDeviceEvent -SerialNumber $d.SerialNumber -Kind ProfileAssigned).Count | Should -Be 1 # the first sync's only
    }

    It '-Token narrows piped devices: a device of another token is not cleared, released, removed or listed' {
        New-SimToken -Name 'Narrow' -Devices 2 | Out-Null
        Sync-AdeDevice -Token Narrow | Out-Null
        $other = (Get-AdeDevice -Token Narrow)[0]
        $sent = @(Get-AdeSimRequest | Where-Object Path -in '/profile/devices', '/devices/disown').Count
        ($other | Clear-AdeDeviceProfile -Token Actions -Confirm:$false).Status | Should -Be 'UnknownDevice'
        ($other | Unregister-AdeDevice -Token Actions -Confirm:$false).Status | Should -Be 'UnknownDevice'
        $err = { $other | Remove-AdeDevice -Token Actions -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId "DeviceNotFound,$($cp)RemoveAdeDeviceCommand" -PassThru
        $err.Exception.Message | Should -Match "is in the store \(token 'Narrow'\)"
        { $other | Get-AdeDevice -Token Actions -ErrorAction Stop } | Should -Throw -ErrorId "DeviceNotFound,$($cp)GetAdeDeviceCommand"
        @(Get-AdeSimRequest | Where-Object Path -in '/profile/devices', '/devices/disown').Count | Should -Be $sent
        (Get-AdeDevice -SerialNumber $other.SerialNumber).Token | Should -Be 'Narrow'
        (Get-AdeSimDevice -Server Narrow | Where-Object SerialNumber -eq $other.SerialNumber).ProfileStatus | Should -Not -Be 'removed'
        # without -Token, the piped device's own token is used
        ($other | Update-AdeDevice).Status | Should -Be 'Success'
        # a row whose Token names no token: the error says which row
        [pscustomobject]@{ SerialNumber = $other.SerialNumber; Token = 'No such token' } | Update-AdeDevice -ErrorVariable bad -ErrorAction SilentlyContinue | Out-Null
        $bad[0].FullyQualifiedErrorId | Should -Be "TokenNotFound,$($cp)UpdateAdeDeviceCommand"
        $bad[0].Exception.Message | Should -Match "row of serial number '$($other.SerialNumber)'"
    }

    It 'Clear-AdeDeviceProfile reports Failed from Apple per device and leaves that device as it was' {
        Set-AdeSimFault -Server Actions -SerialNumber $serials[1] -DeviceStatus Failed -Count 1
        $r = Clear-AdeDeviceProfile -SerialNumber $serials[1] -Confirm:$false
        $r.Status | Should -Be 'Failed'
        $r.AppleStatus | Should -Be 'FAILED'
        (Get-AdeDevice -SerialNumber $serials[1]).EnrollmentProfileName | Should -Be 'Staff'
    }

    It 'Update-AdeDevice brings Apple''s fields between syncs, without using the sync allowance' {
        Set-AdeSimDevice -Server Actions -SerialNumber $serials[2] -MdmMigrationDeadline '2026-12-31T00:00:00Z' -IsReplacementDevice $true | Out-Null
        $syncCalls = @(Get-AdeSimRequest | Where-Object Path -in '/devices/sync', '/server/devices').Count
        $lastSync = (Get-AdeSyncStatus -Token Actions).LastSyncAt
        $r = Update-AdeDevice -SerialNumber $serials[2], 'C02NOTKNOWN1'
        ($r | Where-Object SerialNumber -eq 'C02NOTKNOWN1').Status | Should -Be 'UnknownDevice'
        $device = ($r | Where-Object SerialNumber -eq $serials[2]).Device
        $device.MdmMigrationDeadline | Should -Be ([DateTimeOffset]'2026-12-31T00:00:00Z')
        $device.IsReplacementDevice | Should -BeTrue
        (Get-AdeDevice -ReplacementDevice).SerialNumber | Should -Be $serials[2]
        $changed = (Get-AdeDeviceEvent -SerialNumber $serials[2] -Kind Modified).ChangedFields
        $changed | Should -Contain 'MdmMigrationDeadline'
        $changed | Should -Contain 'IsReplacementDevice'
        @(Get-AdeSimRequest | Where-Object Path -in '/devices/sync', '/server/devices').Count | Should -Be $syncCalls
        (Get-AdeSyncStatus -Token Actions).LastSyncAt | Should -Be $lastSync
    }

    It 'Unregister-AdeDevice is refused with ReleaseNotAllowed when Apple forbids it, and changes nothing' {
        Set-AdeSimServer -Server Actions -AllowDeviceRelease $false | Out-Null
        { Unregister-AdeDevice -SerialNumber $serials[3] -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "ReleaseNotAllowed,${cp}UnregisterAdeDeviceCommand"
        (Get-AdeDevice -SerialNumber $serials[3]).AbmState | Should -Be 'Assigned'
        (Get-AdeSimDevice -Server Actions).SerialNumber | Should -Contain $serials[3]
    }

    It 'a token whose request fails is its own error and its devices NotSent; the other token''s devices are still cleared, with one warning' {
        New-SimToken -Name 'Rejected' -Devices 2 | Out-Null
        Sync-AdeDevice -Token Rejected | Out-Null
        New-AdeProfile -Token Rejected -Name 'Rejected staff' -UserAffinity WithUserAffinity | Out-Null
        Get-AdeDevice -Token Rejected | Set-AdeDeviceProfile -Profile 'Rejected staff' | Out-Null
        Export-AdeSimServerToken -Server Rejected -OutFile (Join-Path $TestDrive 'rejected-again.p7m') | Out-Null
        $targets = @(Get-AdeDevice -Token Rejected) + @(Get-AdeDevice -Token Actions | Where-Object ProfileStatus -eq 'Assigned' | Select-Object -First 1)
        $r = @($targets | Clear-AdeDeviceProfile -Confirm:$false -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue)
        $r.Count | Should -Be 3
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be "AppleTokenRejected,${cp}ClearAdeDeviceProfileCommand"
        @($r | Where-Object Token -eq 'Rejected' | ForEach-Object { "$($_.Status)" } | Sort-Object -Unique) | Should -Be 'NotSent'
        ($r | Where-Object Token -eq 'Actions').Status | Should -Be 'Success'
        @($warned).Count | Should -Be 1
        "$($warned[0])" | Should -BeLike '2 devices of 3 were not cleared: 2 NotSent*'
        (Get-AdeDevice -Token Rejected).ProfileStatus | Sort-Object -Unique | Should -Be 'Assigned'
        # -ErrorAction Stop: the first token's error stops the command before the next token is sent anything
        Clear-AdeSimRequest
        { $targets | Update-AdeDevice -ErrorAction Stop } | Should -Throw -ErrorId "AppleTokenRejected,${cp}UpdateAdeDeviceCommand"
        @(Get-AdeSimRequest -Path '/devices' | Where-Object Server -eq 'Actions').Count | Should -Be 0
    }

    It 'Unregister-AdeDevice in a session that cannot ask is ConfirmationRequired and releases nothing' {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $id, $message, $target = & $pwsh -NoProfile -NonInteractive -Command "Connect-AdeStore -Path '$((Get-AdeStore).Path)'; try { Unregister-AdeDevice -SerialNumber $($serials[5]) -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message; `$_.TargetObject }"
        $id | Should -Be "ConfirmationRequired,${cp}UnregisterAdeDeviceCommand"
        $target | Should -Be "$($serials[5]) (token 'Actions')" # what the question was about, as -WhatIf names it
        # the command has no -Force: the message names what it does have
        $message | Should -Match '-Confirm:\$false to go ahead'
        $message | Should -Not -Match '-Force'
        { Unregister-AdeDevice -SerialNumber $serials[5] -Force } | Should -Throw -ErrorId 'NamedParameterNotFound,*'
        (Get-AdeSimDevice -Server Actions).SerialNumber | Should -Contain $serials[5]
    }

    It 'a warning that would prompt (-WarningAction Inquire) where nobody can answer is PowerShell''s own error, not UnexpectedError' {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $id = & $pwsh -NoProfile -NonInteractive -Command "Connect-AdeStore -Path '$((Get-AdeStore).Path)'; try { `$null = Set-AdeDeviceProfile -Profile Staff -SerialNumber C02NOTKNOWN9 -WarningAction Inquire -ErrorAction Stop } catch { 'ID=' + `$_.FullyQualifiedErrorId }" 2>&1
        @($id | Where-Object { "$_" -like 'ID=*' }) | Should -Be "ID=InvalidOperation,${cp}SetAdeDeviceProfileCommand"
    }

    It 'a scheduled script whose input is at its end (pwsh -File x.ps1 < /dev/null, no -NonInteractive) gets ConfirmationRequired, not UnexpectedError' {
        # The console host prompts and fails on the closed input with an exception of its own (it was UnexpectedError).
        $script = Join-Path $TestDrive 'scheduled.ps1'
        Set-Content $script "Connect-AdeStore -Path '$((Get-AdeStore).Path)'; try { Unregister-AdeDevice -SerialNumber $($serials[5]) -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
        $psi = [Diagnostics.ProcessStartInfo]::new((Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')))
        foreach ($a in '-NoProfile', '-File', $script) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $p = [Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit()
        $out | Should -Match "ConfirmationRequired,${cp}UnregisterAdeDeviceCommand"
        $out | Should -Not -Match 'UnexpectedError'
        (Get-AdeSimDevice -Server Actions).SerialNumber | Should -Contain $serials[5]
    }

    It 'Unregister-AdeDevice releases the device at Apple and marks it released' {
        Set-AdeSimServer -Server Actions -AllowDeviceRelease $true | Out-Null
        (Get-Command Unregister-AdeDevice).ImplementingType.GetCustomAttributes($true).Where({ $_.GetType().Name -eq 'CmdletAttribute' })[0].ConfirmImpact | Should -Be 'High'
        (Unregister-AdeDevice -SerialNumber $serials[3] -Confirm:$false).Status | Should -Be 'Success'
        $d = Get-AdeDevice -SerialNumber $serials[3]
        $d.AbmState | Should -Be 'RemovedFromAbm'
        $d.ReleasedAt | Should -Not -BeNullOrEmpty
        (Get-AdeSimDevice -Server Actions).SerialNumber | Should -Not -Contain $serials[3]
        (Get-AdeDeviceEvent -SerialNumber $serials[3])[-1].Kind | Should -Be 'Released'
        (Get-AdeDeviceEvent -SerialNumber $serials[3])[-1].Detail | Should -Be 'Staff' -Because 'the event names the profile the device held'
    }

    It 'Unregister-AdeDevice stopped while Apple works on the release still records what Apple did' {
        Set-AdeSimServer -Server Actions -AllowDeviceRelease $true | Out-Null
        Set-AdeSimFault -Endpoint '/devices/disown' -Latency ([TimeSpan]::FromSeconds(8)) -Count 1 | Out-Null
        $started = Join-Path $TestDrive "started-$([guid]::NewGuid().ToString('N'))"
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module AdeEnrollment; Connect-AdeStore -Path '$((Get-AdeStore).Path)'; Set-Content '$started' 'go'; Unregister-AdeDevice -SerialNumber $($serials[5]) -Confirm:`$false")
            $running = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path $started) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Start-Sleep -Seconds 2 # the cmdlet has sent its request, which Apple holds for 8 seconds
            $ps.Stop() # Ctrl+C
            $running.IsCompleted | Should -BeTrue
        } finally { $ps.Dispose() }
        (Get-AdeSimDevice -Server Actions).SerialNumber | Should -Not -Contain $serials[5]
        (Get-AdeDevice -SerialNumber $serials[5]).ReleasedAt | Should -Not -BeNullOrEmpty
        (Get-AdeDeviceEvent -SerialNumber $serials[5])[-1].Kind | Should -Be 'Released'
    }

    It 'a release sent again after its answer was lost and answered NOT_ACCESSIBLE is named in a warning; a session refused is AppleAccessDenied' {
        New-SimToken -Name 'Resent' -Devices 3 | Out-Null
        Sync-AdeDevice -Token Resent | Out-Null
        $r3 = @((Get-AdeDevice -Token Resent).SerialNumber)
        Set-AdeSimFault -Endpoint '/devices/disown' -DropConnection -AfterApplying -Count 1 | Out-Null
        $r = @($r3[0..1] | Unregister-AdeDevice -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue)
        $r.Status | Sort-Object -Unique | Should -Be 'NotAccessible' -Because 'Apple''s answer cannot tell a release from a device moved since the last sync'
        @($warned | Where-Object { "$_" -like "The release request of token 'Resent' was sent again*2 devices the store holds as assigned*most likely the first request released them*" }).Count | Should -Be 1
        (Get-AdeSimDevice -Server Resent).SerialNumber | Should -Be $r3[2]
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        Sync-AdeDevice -Token Resent | Out-Null
        (Get-AdeDevice -SerialNumber $r3[0..1]).AbmState | Sort-Object -Unique | Should -Be 'RemovedFromAbm'
        # a refusal of the session opened for the release is the token's access, not the release permission
        Set-AdeSimFault -Endpoint '/devices/disown' -StatusCode 401 -Body 'UNAUTHORIZED' -Count 1 | Out-Null
        Set-AdeSimFault -Endpoint '/session' -StatusCode 403 -Body 'ACCESS_DENIED' -Count 5 | Out-Null
        try {
            { Unregister-AdeDevice -SerialNumber $r3[2] -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId "AppleAccessDenied,${cp}UnregisterAdeDeviceCommand"
        } finally { Clear-AdeSimFault | Out-Null; Set-AdeSimClock -Reset }
        (Get-AdeSimDevice -Server Resent).SerialNumber | Should -Be $r3[2]
    }

    It 'Update-AdeDevice right after an assignment journals no change: Apple''s assign time has whole seconds, the recorded one milliseconds' {
        New-SimToken -Name 'Refresh' -Devices 1 | Out-Null
        Sync-AdeDevice -Token Refresh | Out-Null
        New-AdeProfile -Token Refresh -Name 'Refreshed' -UserAffinity WithUserAffinity | Out-Null
        $one = (Get-AdeDevice -Token Refresh).SerialNumber
        Set-AdeDeviceProfile -Profile 'Refreshed' -SerialNumber $one | Out-Null
        $before = @(Get-AdeDeviceEvent -SerialNumber $one).Count
        (Update-AdeDevice -SerialNumber $one).Status | Should -Be 'Success'
        @(Get-AdeDeviceEvent -SerialNumber $one -Kind Modified) | Should -BeNullOrEmpty
        @(Get-AdeDeviceEvent -SerialNumber $one).Count | Should -Be $before
    }

    It 'Get-AdeDevice -LastAssignmentResult finds devices whose last assignment failed' {
        Set-AdeSimFault -Server Actions -SerialNumber $serials[4] -DeviceStatus Failed -Count 1
        Set-AdeDeviceProfile -Profile Staff -SerialNumber $serials[4] -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        "$w" | Should -Match "^1 device of 1 did not get profile 'Staff': 1 Failed"
        $d = Get-AdeDevice -Token Actions -LastAssignmentResult Failed
        $d.SerialNumber | Should -Be $serials[4]
        $d.LastAssignmentProfile | Should -Be 'Staff'
        $d.LastAssignmentResult | Should -Be 'FAILED'
        # Test-AdeHealth's remedy says from when, and gives each held device its profile again once pasted then
        $held = Test-AdeHealth -Token Actions | Where-Object Check -eq 'DevicesHeldAfterFailure'
        $held.Status | Should -Be 'Warning'
        $held.Remedy | Should -Match '^From \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: Get-AdeDevice'
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 25) | Out-Null
        try {
            Invoke-Expression ($held.Remedy -replace '^From [^Z]+Z: ', '') | Out-Null
            (Get-AdeDevice -SerialNumber $serials[4]).LastAssignmentResult | Should -Be 'SUCCESS'
            (Test-AdeHealth -Token Actions | Where-Object Check -eq 'DevicesHeldAfterFailure').Status | Should -Be 'Pass'
        } finally { Set-AdeSimClock -Reset }
    }
}

Describe 'Get-AdeDeviceEvent and the journal retention' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'journal.db')
        New-SimToken -Name 'Journal' -Devices 4 | Out-Null
        Sync-AdeDevice -Token Journal | Out-Null
    }

    It '-Since reads a date as text the same in every culture (<Culture>: another calendar)' -ForEach @(@{ Culture = 'th-TH' }, @{ Culture = 'ar-SA' }) {
        $saved = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = $Culture
            $future = @(Get-AdeDeviceEvent -Since '2099-01-01')
            $past = @(Get-AdeDeviceEvent -Since '2000-01-01T00:00:00Z')
        } finally { [cultureinfo]::CurrentCulture = $saved }
        $future.Count | Should -Be 0 -Because 'in the Thai calendar 2099 would be the year 1556 and every event would be later'
        $past.Count | Should -Be @(Get-AdeDeviceEvent).Count
    }

    It 'streams typed events oldest first and filters by kind and serial' {
        $events = @(Get-AdeDeviceEvent)
        $events.Count | Should -Be 4
        $events[0].PSTypeNames | Should -Contain 'AdeEnrollment.Engine.Devices.AdeDeviceEvent'
        @($events.Kind | Sort-Object -Unique) | Should -Be @('Added')
        ($events.Id | Sort-Object) | Should -Be $events.Id
        $one = $events[2].SerialNumber
        (Get-AdeDevice -SerialNumber $one | Get-AdeDeviceEvent).Id | Should -Be $events[2].Id
        @(Get-AdeDeviceEvent -Kind Released).Count | Should -Be 0
        @(Get-AdeDeviceEvent -AfterId $events[1].Id).Count | Should -Be 2
        # several serials at once, each the journal's events of that serial (none for one it never saw: a query, not an error)
        $two = @(Get-AdeDeviceEvent -SerialNumber $events[0].SerialNumber, 'C02NOSUCH001', $events[1].SerialNumber -ErrorAction Stop)
        $two.Id | Should -Be @($events[0].Id, $events[1].Id)
    }

    It 'finds a serial by itself under every token it was in: a device moved in ABM from one MDM server to another' {
        New-SimToken -Name 'Journal2' -Devices 1 | Out-Null
        $moved = (Get-AdeDevice -Token Journal)[0].SerialNumber
        Remove-AdeSimDevice -Server Journal -SerialNumber $moved -Confirm:$false | Out-Null
        Add-AdeSimDevice -Server Journal2 -SerialNumber $moved | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16) # past the 15 minutes between manual syncs of a token
        try {
            Sync-AdeDevice -Token Journal | Out-Null
            Sync-AdeDevice -Token Journal2 | Out-Null
        } finally { Set-AdeSimClock -Reset }

        $events = @(Get-AdeDeviceEvent -SerialNumber $moved)
        @($events | ForEach-Object { "$($_.Token)/$($_.Kind)" }) | Should -Be @('Journal/Added', 'Journal/DeletedFromAbm', 'Journal2/Added')
        ($events.Id | Sort-Object) | Should -Be $events.Id
        @(Get-AdeDeviceEvent -SerialNumber $moved -Token Journal2).Kind | Should -Be @('Added')
        @(Get-AdeDeviceEvent -SerialNumber 'C02NOTKNOWN1').Count | Should -Be 0
        $both = @(Get-AdeDevice -SerialNumber $moved)
        @($both | ForEach-Object { "$($_.Token)/$($_.AbmState)" }) | Should -Be @('Journal/RemovedFromAbm', 'Journal2/Assigned')
    }

    It 'takes piped tokens (their events), devices (their token''s), serial strings and CSV rows; a row without a serial is its own error' {
        New-SimToken -Name 'Piped events' -Devices 2 | Out-Null
        Sync-AdeDevice -Token 'Piped events' | Out-Null
        $serials = @((Get-AdeDevice -Token 'Piped events').SerialNumber)
        @(Get-AdeToken -Name 'Piped events' | Get-AdeDeviceEvent).SerialNumber | Should -Be (Get-AdeDeviceEvent -Token 'Piped events').SerialNumber
        @(Get-AdeToken | Get-AdeDeviceEvent).Count | Should -Be @(Get-AdeDeviceEvent).Count
        # a device object is its own token's events; a serial string is that serial's under every token
        @(Get-AdeDevice -Token 'Piped events' -SerialNumber $serials[0] | Get-AdeDeviceEvent).Token | Should -Be @('Piped events')
        @($serials | Get-AdeDeviceEvent).SerialNumber | Should -Be $serials
        @(Get-AdeDeviceEvent -InputObject $serials).SerialNumber | Should -Be $serials
        @($serials[1] | Get-AdeDeviceEvent -Token 'Piped events').Kind | Should -Be @('Added')
        @($serials[1] | Get-AdeDeviceEvent -Token Journal).Count | Should -Be 0
        $rows = @([pscustomobject]@{ 'Serial Number' = $serials[0] }, [pscustomobject]@{ Owner = 'nobody' }, [pscustomobject]@{ SerialNumber = $serials[1]; Token = 'Piped events' })
        $got = @($rows | Get-AdeDeviceEvent -ErrorVariable bad -ErrorAction SilentlyContinue)
        $got.SerialNumber | Should -Be $serials
        @($bad).Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -Be "SerialNumberMissing,${cp}GetAdeDeviceEventCommand"
        { Get-AdeToken | Get-AdeDeviceEvent -Token 'No such token' -ErrorAction Stop } | Should -Throw -ErrorId "TokenNotFound,${cp}GetAdeDeviceEventCommand"
    }

    It 'Set-AdeStore -JournalRetentionDays is kept in the store and shown by Get-AdeStore' {
        (Get-AdeStore).JournalRetentionDays | Should -Be 90
        (Set-AdeStore -JournalRetentionDays 30 -PassThru).JournalRetentionDays | Should -Be 30
        (Get-AdeStore).JournalRetentionDays | Should -Be 30
    }

    It 'Set-AdeStore refuses <Days> days with ArgumentInvalid and changes nothing' -ForEach @(@{ Days = 0 }, @{ Days = 5000 }) {
        { Set-AdeStore -JournalRetentionDays $Days -ErrorAction Stop } | Should -Throw -ErrorId "ArgumentInvalid,${cp}SetAdeStoreCommand"
        (Get-AdeStore).JournalRetentionDays | Should -Be 30
    }
}

Describe 'Test-AdeHealth when Apple denies access' {
    BeforeAll { Connect-AdeStore -Path (Join-Path $TestDrive 'denied.db') }

    It 'fails LastSync at once when Apple denies the MDM server access, naming the error and what to check in ABM' {
        New-SimToken -Name 'Denied' -Devices 1 | Out-Null
        Sync-AdeDevice -Token Denied | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 13)
        try {
            Set-AdeSimFault -Endpoint '/devices/sync' -StatusCode 401 -Body 'UNAUTHORIZED' -Count 1 | Out-Null
            Set-AdeSimFault -Endpoint '/session' -StatusCode 403 -Body 'ACCESS_DENIED' -Count 10 | Out-Null
            Sync-AdeDevice -Token Denied -IfDue -ErrorAction SilentlyContinue | Out-Null
            $last = Test-AdeHealth -Token Denied | Where-Object Check -eq 'LastSync'
            "$($last.Status)" | Should -Be 'Fail'
            $last.Detail | Should -Match 'failed with AppleAccessDenied'
            $last.Remedy | Should -Match 'Device Enrollment Manager'
        } finally { Clear-AdeSimFault | Out-Null; Set-AdeSimClock -Reset }
    }
}

Describe 'Test-AdeHealth' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'health.db')
        New-SimToken -Name 'Healthy' -Devices 2 | Out-Null
    }

    It 'returns typed results per check, with the command that fixes a warning' {
        $r = @(Test-AdeHealth)
        $r[0].PSTypeNames | Should -Contain 'AdeEnrollment.Engine.Health.AdeHealthResult'
        $r.Check | Should -Contain 'Store'
        $last = $r | Where-Object Check -eq 'LastSync'
        $last.Status | Should -Be 'Warning'
        $last.Remedy | Should -Be "Sync-AdeDevice -Token 'Healthy'"
    }

    It '-Quiet is one boolean: $true while nothing fails, $false once a check fails' {
        Sync-AdeDevice -Token Healthy | Out-Null
        $q = Test-AdeHealth -Quiet
        $q | Should -BeOfType [bool]
        $q | Should -BeTrue
        Set-AdeSimClock -Advance (New-TimeSpan -Days 8)
        try {
            Test-AdeHealth -Quiet | Should -BeFalse
            (Test-AdeHealth -Token Healthy | Where-Object Check -eq 'LastSync').Status | Should -Be 'Fail'
        } finally { Set-AdeSimClock -Reset }
    }

    It 'counts devices without a profile per platform after the threshold, with a remedy that runs as written' {
        $r = @(Test-AdeHealth -Token Healthy -UnassignedThreshold ([TimeSpan]::Zero) | Where-Object Check -eq 'DevicesWithoutProfile')
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'Warning'
        $r[0].Detail | Should -Match '^\d+ iOS devices? \((iPad|iPhone) \d+(, (iPad|iPhone) \d+)?\) without an enrollment profile'
        $r[0].Detail | Should -Match 'no iOS profile'
        $r[0].Remedy | Should -BeLike '*<iOS profile>*'
        # with the token's one iOS profile, the remedy names it and runs as written
        $p = New-AdeProfile -Token Healthy -Name 'Health remedy' -UserAffinity WithoutUserAffinity
        $remedy = (Test-AdeHealth -Token Healthy -UnassignedThreshold ([TimeSpan]::Zero) | Where-Object Check -eq 'DevicesWithoutProfile').Remedy
        $remedy | Should -Not -Match '<'
        Invoke-Expression $remedy | Out-Null
        (Get-AdeToken -Name Healthy).DefaultProfile | Should -Be 'Health remedy'
        @(Get-AdeDevice -Token Healthy -Unassigned).Count | Should -Be 0
        $after = Test-AdeHealth -Token Healthy -UnassignedThreshold ([TimeSpan]::Zero) | Where-Object Check -eq 'DevicesWithoutProfile'
        $after.Status | Should -Be 'Pass'
        Set-AdeDefaultProfile -Token Healthy -Clear

        # a device whose profile the admin cleared on purpose is not "without a profile", and no remedy gives it one back
        $cleared = Get-AdeDevice -Token Healthy | Select-Object -First 1
        $cleared | Clear-AdeDeviceProfile -Confirm:$false | Out-Null
        (Test-AdeHealth -Token Healthy -UnassignedThreshold ([TimeSpan]::Zero) | Where-Object Check -eq 'DevicesWithoutProfile').Status | Should -Be 'Pass'
        (Get-AdeDevice -SerialNumber $cleared.SerialNumber).ProfileStatus | Should -Be 'Removed'
        $cleared | Set-AdeDeviceProfile -Profile 'Health remedy' | Out-Null
        # a threshold beyond ten years is refused before any result is written
        { $script:out = @(Test-AdeHealth -Token Healthy -UnassignedThreshold ([TimeSpan]::MaxValue) -ErrorAction Stop) } |
            Should -Throw -ErrorId "ArgumentInvalid,$($cp)TestAdeHealthCommand"
        $script:out.Count | Should -Be 0
    }

    It 'piped tokens are checked one by one: an unknown one is its own error and the next is still checked' {
        New-SimToken -Name 'Also healthy' -Devices 1 | Out-Null
        $r = @('Healthy', 'No such token', 'Also healthy' | Test-AdeHealth -ErrorVariable failed -ErrorAction SilentlyContinue)
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'TokenNotFound,AdeEnrollment.Commands.TestAdeHealthCommand'
        $r | Where-Object Token -EQ 'Also healthy' | Should -Not -BeNullOrEmpty
        $r | Where-Object Token -EQ 'Healthy' | Should -Not -BeNullOrEmpty
    }

    It 'a sync remedy says from when the command is allowed while the sync limit refuses it' {
        New-SimToken -Name 'Failed first' -Devices 1 | Out-Null
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 500 -Count 10 | Out-Null
        Set-AdeSimClock -Waits Instant # the retries' back-off passes on the simulated clock, not in real time
        try {
            { Sync-AdeDevice -Token 'Failed first' -ErrorAction Stop } | Should -Throw
        } finally { Clear-AdeSimFault; Set-AdeSimClock -Waits Real }
        $next = (Get-AdeToken -Name 'Failed first').NextManualSyncAt
        $last = Test-AdeHealth -Token 'Failed first' | Where-Object Check -eq 'LastSync'
        $last.Remedy | Should -Be "From $($next.ToString('u', [cultureinfo]::InvariantCulture)) (the sync limit after the last attempt): Sync-AdeDevice -Token 'Failed first'"
        { Sync-AdeDevice -Token 'Failed first' -ErrorAction Stop } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand'
    }

    It 'fails TokenRejected once Apple refuses a replaced token, and Store once the key file is gone' {
        New-SimToken -Name 'Replaced' -Devices 1 | Out-Null
        Export-AdeSimServerToken -Server 'Replaced' -OutFile (Join-Path $TestDrive 'replaced-again.p7m') | Out-Null
        { Sync-AdeDevice -Token 'Replaced' -ErrorAction Stop } | Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        $rejected = Test-AdeHealth -Token 'Replaced' | Where-Object Check -eq 'TokenRejected'
        $rejected.Status | Should -Be 'Fail'
        $rejected.Remedy | Should -BeLike "*Update-AdeToken -Token 'Replaced' -Path <token.p7m>"
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 25)
        try {
            # a sync cannot work until the token is replaced: the stale-sync remedy says so first
            (Test-AdeHealth -Token 'Replaced' | Where-Object Check -eq 'LastSync').Remedy | Should -BeLike "Download a new server token*Update-AdeToken -Token 'Replaced'*; Sync-AdeDevice -Token 'Replaced'"
        } finally { Set-AdeSimClock -Reset }

        $db = Join-Path $TestDrive 'keyless.db'
        Connect-AdeStore -Path $db
        New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive 'keyless.pem') | Out-Null
        Disconnect-AdeStore
        Remove-Item "$db.key"
        Connect-AdeStore -Path $db -ErrorAction SilentlyContinue
        try {
            $store = Test-AdeHealth | Where-Object Check -eq 'Store'
            $store.Status | Should -Be 'Fail'
            $store.Remedy | Should -Be "Restore the key file '$db.key' from backup"
            Test-AdeHealth -Quiet | Should -BeFalse
        } finally {
            Connect-AdeStore -Path (Join-Path $TestDrive 'health.db')
        }
    }

    It 'takes the token of what is piped: a device, a CSV row with a Token column, a token' {
        Sync-AdeDevice -Token 'Also healthy' -WarningAction SilentlyContinue | Out-Null
        $device = Get-AdeDevice -Token 'Also healthy' | Select-Object -First 1
        @(($device | Test-AdeHealth).Token | Where-Object { $_ } | Sort-Object -Unique) | Should -Be 'Also healthy'
        # many devices of one token: its checks once, and the store's once
        $checks = @(Get-AdeDevice | Test-AdeHealth)
        @($checks | Where-Object Check -eq 'Store').Count | Should -Be 1
        @($checks | Where-Object { $_.Check -eq 'LastSync' -and $_.Token -eq 'Healthy' }).Count | Should -Be 1
        @(Get-AdeDevice -Token 'Healthy').Count | Should -BeGreaterThan 1
        @(([pscustomobject]@{ Token = 'Healthy' } | Test-AdeHealth).Token | Where-Object { $_ } | Sort-Object -Unique) | Should -Be 'Healthy'
        @((Get-AdeToken -Name 'Healthy' | Test-AdeHealth).Token | Where-Object { $_ } | Sort-Object -Unique) | Should -Be 'Healthy'
        ($device | Get-AdeSyncStatus).Token | Should -Be 'Also healthy'
    }
}

Describe 'Test-AdeProfile' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'drift.db')
        New-SimToken -Name 'Drift' -Devices 2 | Out-Null
        Sync-AdeDevice -Token Drift | Out-Null
        New-AdeProfile -Token Drift -Name 'Staff' -UserAffinity WithUserAffinity -Department 'IT' | Out-Null
        Get-AdeDevice -Token Drift | Set-AdeDeviceProfile -Profile Staff | Out-Null
    }

    It 'reports each key that differs at Apple, and -Repair defines the profile again' {
        (Test-AdeProfile -Profile Staff).State | Should -Be 'InSync'
        $uuid = (Get-AdeProfile -Name Staff).AppleProfileUuid
        Set-AdeSimProfile -Server Drift -ProfileUuid $uuid -Key @{ department = 'Elsewhere' }
        $d = Test-AdeProfile -Profile Staff
        $d.PSTypeNames | Should -Contain 'AdeEnrollment.Engine.Profiles.AdeProfileDrift'
        $d.State | Should -Be 'Drifted'
        $d.Differences.Key | Should -Be 'department'
        $d.Differences.AtApple | Should -Be 'Elsewhere'
        (Get-AdeProfile -Name Staff | Test-AdeProfile -Repair -WhatIf).Repaired | Should -BeFalse
        $r = Test-AdeProfile -Profile Staff -Repair -Confirm:$false
        $r.Repaired | Should -BeTrue
        (Test-AdeProfile -Profile Staff).State | Should -Be 'InSync'
        (Get-AdeSimDevice -Server Drift).ProfileUuid | Sort-Object -Unique | Should -Be $r.AppleProfileUuid
    }

    It 'keys the definition leaves out are no drift when Apple holds them at its defaults' {
        $uuid = (Get-AdeProfile -Name Staff).AppleProfileUuid
        Set-AdeSimProfile -Server Drift -ProfileUuid $uuid -Key @{ auto_advance_setup = $false; is_return_to_service = $false; anchor_certs = @() }
        (Test-AdeProfile -Profile Staff).State | Should -Be 'InSync'
        Set-AdeSimProfile -Server Drift -ProfileUuid $uuid -Key @{ auto_advance_setup = $true }
        $d = Test-AdeProfile -Profile Staff
        $d.State | Should -Be 'Drifted'
        $d.Differences.Key | Should -Be 'auto_advance_setup'
    }
}
