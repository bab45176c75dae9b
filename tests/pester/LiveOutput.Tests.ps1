# Live output, Ctrl+C and catalogued failures through the built module (docs/architecture.md, "Live output"):
# what the engine reports while it waits is written as it happens, a stopped command is recorded with a catalogued
# error ID, and network failures name the address they tried.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    Set-AdeSimClock -Reset
    $script:sim = Start-AdeSimulator -Seed 1130
}

AfterAll {
    Clear-AdeSimFault
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Output written while the engine waits' {
    BeforeEach {
        Clear-AdeSimFault
        $sim.ClearRequests()
        Connect-AdeStore -Path (Join-Path $TestDrive "live-$([guid]::NewGuid().ToString('N')).db")
        $script:t = New-SimToken -Name "Live $([guid]::NewGuid().ToString('N').Substring(0, 8))" -Devices 30
        $sim.ClearRequests()
    }

    It 'a verbose line about a Retry-After wait arrives before the retried request is sent' {
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 503 -RetryAfterSeconds 2 -Count 1 | Out-Null
        $seen = [Collections.Generic.List[object]]::new()
        Sync-AdeDevice -Token $t.Token -Verbose 4>&1 | ForEach-Object {
            if ($_ -is [Management.Automation.VerboseRecord]) { $seen.Add([pscustomobject]@{ At = [DateTimeOffset]::UtcNow; Text = $_.Message }) }
        }
        $retry = $seen | Where-Object Text -like '*answered 503*retry 1 of*' | Select-Object -First 1
        $retry | Should -Not -BeNullOrEmpty
        $requests = @(Get-AdeSimRequest -Path '/server/devices')
        $requests[0].StatusCode | Should -Be 503
        $requests[1].StatusCode | Should -Be 200
        # ordering, not duration: the line was on the pipeline before the simulator saw the retried request
        $retry.At | Should -BeLessThan $requests[1].Time
        ($seen | Where-Object Text -like 'Page 1:*').At | Should -BeGreaterThan $retry.At
    }

    It 'the engine''s verbose lines follow $VerbosePreference as well as -Verbose (a dropped line is not carried across)' {
        # The cmdlet hands verbose lines to the pipeline thread only when PowerShell would write them: the preference
        # variable in the caller's scope counts, not only the common parameter.
        $VerbosePreference = 'Continue'
        $byPreference = @(Sync-AdeDevice -Token $t.Token 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        $byPreference.Message | Should -Contain ($byPreference.Message | Where-Object { $_ -like 'Page 1:*' } | Select-Object -First 1)
        $byPreference.Message | Where-Object { $_ -like 'Apple: POST /server/devices*' } | Should -Not -BeNullOrEmpty
        $VerbosePreference = 'SilentlyContinue'
        Set-AdeSimClock -Advance ([timespan]::FromMinutes(20)) -Confirm:$false
        $quiet = @(Sync-AdeDevice -Token $t.Token 4>&1)
        @($quiet | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Count | Should -Be 0
        ($quiet | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }).Status | Should -Be 'Succeeded'
        Set-AdeSimClock -Advance ([timespan]::FromMinutes(20)) -Confirm:$false
        $forced = @(Sync-AdeDevice -Token $t.Token -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        $forced.Message | Where-Object { $_ -like 'Apple: POST /devices/sync*' } | Should -Not -BeNullOrEmpty
    }

    It 'Ctrl+C during a Retry-After wait stops the sync before the retry and records it Stopped (OperationStopped), not failed' {
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 503 -RetryAfterSeconds 55 -Count 1 | Out-Null
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module AdeEnrollment; Connect-AdeStore -Path '$((Get-AdeStore).Path)'; Sync-AdeDevice -Token '$($t.Token.Name)' -Verbose")
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($ps.Streams.Verbose | Where-Object Message -like '*retry 1 of*') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $ps.Streams.Verbose.Message | Should -Contain ($ps.Streams.Verbose.Message | Where-Object { $_ -like '*retry 1 of*' } | Select-Object -First 1)
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally {
            $ps.Dispose()
        }
        @(Get-AdeSimRequest -Path '/server/devices').Count | Should -Be 1 -Because 'the retry after the 55 s wait never happened'
        $last = (Get-AdeSyncStatus -Token $t.Token.Name).History[0]
        $last.Status | Should -Be 'Stopped'
        $last.ErrorId | Should -Be 'OperationStopped'
        (Get-AdeSyncStatus -Token $t.Token.Name).InProgress | Should -BeFalse
        # a scheduler continues a stopped sync as soon as the 15-minute rule allows, not 12 hours after the last success
        $notYet = Sync-AdeDevice -Token $t.Token -IfDue
        $notYet.Status | Should -Be 'NotDue'
        $notYet.NextAutomaticSyncAt | Should -Be ($last.StartedAt + [timespan]::FromMinutes(15))
        Set-AdeSimClock -Advance ([timespan]::FromMinutes(16)) -Confirm:$false
        (Sync-AdeDevice -Token $t.Token -IfDue).Status | Should -Be 'Succeeded'
    }
}

Describe 'Catalogued failures that name what they contacted' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'names.db')
        $script:named = New-SimToken -Name 'Plain name'
    }

    It 'a name with a terminal escape sequence is NameInvalid' {
        { Set-AdeToken -Token 'Plain name' -NewName "Evil`e[2J" -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,AdeEnrollment.Commands.SetAdeTokenCommand'
        { New-AdeProfile -Token 'Plain name' -Name "Two`nlines" -UserAffinity WithoutUserAffinity -ErrorAction Stop } |
            Should -Throw -ErrorId 'NameInvalid,AdeEnrollment.Commands.NewAdeProfileCommand'
        (Get-AdeToken).Name | Should -Be 'Plain name'
    }

    It 'a service address that is not Apple''s needs -AllowNonAppleServiceUri, and an unresolvable one is AppleHostNotFound' {
        $pem = Join-Path $TestDrive 'far.pem'
        $p7m = Join-Path $TestDrive 'far.p7m'
        $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        New-AdeSimServer -Name 'Far away' -PublicKeyPath $pem -OutFile $p7m | Out-Null
        { New-AdeToken -Request $request -Path $p7m -AppleId 'a@contoso.example' -ServiceUri 'https://ade-enrollment.invalid/' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServiceUriNotApple,AdeEnrollment.Commands.NewAdeTokenCommand'
        $err = { New-AdeToken -Request $request -Path $p7m -AppleId 'a@contoso.example' -ServiceUri 'https://ade-enrollment.invalid/' -AllowNonAppleServiceUri -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'AppleHostNotFound,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*ade-enrollment.invalid*'
        $err.Exception.Message | Should -Not -BeLike '*later*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        @(Get-AdeToken).Count | Should -Be 1
    }
}
