# Device sync through the cmdlets against the simulator, with the simulator's clock moving the engine's clock too.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 4242
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

# On both providers: the same rules through the same cmdlets on a SQLite file and on a PostgreSQL schema.
Describe 'Sync-AdeDevice (<Provider>)' -ForEach @(@{ Provider = 'SQLite' }, @{ Provider = 'PostgreSQL' }) {
    BeforeAll {
        # 1,100 items over the synced serials, across two batch boundaries: 12 unknown serials, lower case ones, and
        # serials named again (in their own batch and in a later one).
        function New-PipedSerials([string[]] $Serials) {
            $items = [Collections.Generic.List[string]]::new()
            for ($i = 0; $i -lt 1100; $i++) {
                $items.Add($(if ($i % 97 -eq 5) { "NOPE$i" } elseif ($i % 7 -eq 0) { $Serials[$i].ToLowerInvariant() } else { $Serials[($i * 13) % $Serials.Count] }))
            }
            , $items
        }
    }

    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        $script:store = New-TestStore -Provider $Provider -Connect
        $script:t = New-SimToken -Name "Sync $([guid]::NewGuid().ToString('N').Substring(0, 8))" -Devices 1500
    }

    AfterEach {
        if ($store) { Remove-TestStore $store; $script:store = $null }
    }

    It 'piped serials are read in batches: each gives what its own lookup gives, in input order, errors in place' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serials = @((Get-AdeDevice -Token $t.Token.Name).SerialNumber)
        $items = New-PipedSerials $serials
        $items.Insert(600, "$($serials[3].Substring(0, 9))*") # a pattern is looked up by itself, after the serials before it
        function Show($records) {
            $records | ForEach-Object { if ($_ -is [Management.Automation.ErrorRecord]) { "$($_.FullyQualifiedErrorId):$($_.TargetObject)" } else { $_.SerialNumber } }
        }

        $batched = @(Show ($items | Get-AdeDevice -ErrorAction Continue 2>&1))
        $oneByOne = @(Show ($items | ForEach-Object { Get-AdeDevice -SerialNumber $_ -ErrorAction Continue 2>&1 }))

        $batched | Should -Be $oneByOne
        $batched.Count | Should -BeGreaterThan 1100
        @($batched -like 'DeviceNotFound,*').Count | Should -Be 12
        $batched[5] | Should -Be 'DeviceNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand:NOPE5'
        $batched[0] | Should -Be $serials[0]
    }

    It 'Remove-AdeDevice reads piped serials in batches: each removes or misses what it would after the removals before it; a repeat is passed over' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serials = @((Get-AdeDevice -Token $t.Token.Name).SerialNumber)
        $items = New-PipedSerials $serials
        $notNamed = $serials | Where-Object { $items -notcontains $_ } | Select-Object -First 1
        $items.Insert(600, "$($notNamed.Substring(0, 9))*") # serials are exact: a pattern names no device
        # What one Remove-AdeDevice per item would do, item after item, a serial named again (in any case) passed over.
        $left = [Collections.Generic.HashSet[string]]::new([string[]]$serials)
        $named = [Collections.Generic.HashSet[string]]::new()
        $expectedErrors = foreach ($item in $items) { if ($named.Add($item.ToUpperInvariant()) -and -not $left.Remove($item.ToUpperInvariant())) { $item } }

        $errors = @($items | Remove-AdeDevice -Confirm:$false -WarningVariable w -ErrorAction Continue 2>&1 3>$null)

        $errors | ForEach-Object { $_.FullyQualifiedErrorId } | Select-Object -Unique | Should -Be 'DeviceNotFound,AdeEnrollment.Commands.RemoveAdeDeviceCommand'
        @($errors.TargetObject) | Should -Be @($expectedErrors)
        @($expectedErrors).Count | Should -Be 13 # the 12 unknown ones and the pattern; the names repeated are passed over
        $left | Should -Contain $notNamed
        (@(Get-AdeDevice -Token $t.Token.Name).SerialNumber | Sort-Object) | Should -Be (@($left) | Sort-Object)
        $w.Count | Should -Be 1
        $w[0].Message | Should -BeLike "$(($serials.Count - $left.Count).ToString('N0')) removed devices are still assigned*"
    }

    It 'first sync is full and brings every device, profile name always filled' {
        $r = Sync-AdeDevice -Token $t.Token
        $r | Should -BeOfType ((Get-AdeModuleType AdeEnrollment.Engine.Model.AdeSyncResult))
        $r.Kind | Should -Be 'Full'
        $r.Trigger | Should -Be 'First'
        $r.Status | Should -Be 'Succeeded'
        $r.Added | Should -Be 1500
        $r.ExpectedAbmDeliveryMinutes | Should -Be 0.5
        $devices = @(Get-AdeDevice -Token $t.Token.Name)
        $devices.Count | Should -Be 1500
        $devices | Where-Object { $null -eq $_.EnrollmentProfileName } | Should -BeNullOrEmpty
        $devices[0].ScopeTags | Should -Be @('Default')
        ($devices.SerialNumber | Sort-Object) | Should -Be ((Get-AdeSimDevice -Server $t.Token.Name).SerialNumber | Sort-Object)
        (Get-AdeToken -Name $t.Token.Name).LastSync | Should -Not -BeNullOrEmpty
    }

    It 'refuses a manual sync right after a failed one, saying that the failed attempt counts' {
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 403 -Body 'ACCESS_DENIED' -Count 1 | Out-Null
        { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'AppleAccessDenied,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        $err = { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
        $err.Exception.Message | Should -Match 'started a sync at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ that did not succeed \(it failed or was stopped\), and every attempt counts'
    }

    It 'refuses a second manual sync within 15 minutes naming the time, then allows a delta' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $err = { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.Exception.Message | Should -Match '\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ'
        # The simulator clock keeps running in real time: a margin of 30 s for a loaded machine (the exact boundary is
        # tested in xunit on a fake clock).
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 14 -Seconds 30)
        { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        Set-AdeSimClock -Advance (New-TimeSpan -Seconds 30)
        Add-AdeSimDevice -Server $t.Token.Name -Count 3 | Out-Null
        $delta = Sync-AdeDevice -Token $t.Token
        $delta.Kind | Should -Be 'Delta'
        $delta.Added | Should -Be 3
    }

    It 'refuses -Full within 7 days (FullSyncTooSoon)' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Days 6 -Hours 23)
        { Sync-AdeDevice -Token $t.Token -Full -ErrorAction Stop } | Should -Throw -ErrorId 'FullSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 1)
        (Sync-AdeDevice -Token $t.Token -Full).Kind | Should -Be 'Full'
    }

    It 'a token past its expiry date is StoredTokenExpired and nothing is sent to Apple' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Now $t.Token.ExpiresAt.AddMinutes(1) | Out-Null
        (Get-AdeToken -Id $t.Token.Id).Status | Should -Be 'Expired'
        $sent = @(Get-AdeSimRequest).Count
        $err = { Sync-AdeDevice -Token $t.Token -IfDue -ErrorAction Stop } | Should -Throw -ErrorId 'StoredTokenExpired,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match "Update-AdeToken -Token '$([regex]::Escape($t.Token.Name))'"
        @(Get-AdeSimRequest).Count | Should -Be $sent
    }

    It '-IfDue returns NotDue without error until 12 hours passed' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 11)
        $r = Sync-AdeDevice -Token $t.Token -IfDue -ErrorVariable e
        $e | Should -BeNullOrEmpty
        $r.Status | Should -Be 'NotDue'
        # the table shows when it is due instead of a start that never happened
        ($r | Format-Table | Out-String -Width 120) | Should -Match ([regex]::Escape('due ' + $r.NextAutomaticSyncAt.ToLocalTime().ToString('MM-dd HH:mm', [cultureinfo]::InvariantCulture)))
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 1)
        $r = Sync-AdeDevice -Token $t.Token -IfDue
        $r.Status | Should -Be 'Succeeded'
        $r.Trigger | Should -Be 'Automatic'
    }

    It 'in a pipeline a refused token is a non-terminating error and the others still sync' {
        $second = New-SimToken -Name "Second $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 5
        Sync-AdeDevice -Token $t.Token | Out-Null
        $results = Get-AdeToken | Sync-AdeDevice -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        @($results).Count | Should -Be 1
        $results.Token | Should -Be $second.Token.Name
    }

    It '-IfDue over piped tokens: each due token synced once, the others NotDue, in order; an unknown name fails alone' {
        $second = New-SimToken -Name "Second $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 5
        Sync-AdeDevice -Token $t.Token | Out-Null
        $results = @($t.Token.Name, 'No such token', $second.Token) | Sync-AdeDevice -IfDue -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'TokenNotFound,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        @($results).Count | Should -Be 2
        $results[0].Token | Should -Be $t.Token.Name
        $results[0].Status | Should -Be 'NotDue'
        $results[1].Token | Should -Be $second.Token.Name
        $results[1].Status | Should -Be 'Succeeded'
        $results[1].Added | Should -Be 5

        $again = @(Get-AdeToken | Sync-AdeDevice -IfDue)
        $again.Status | Should -Be @('NotDue', 'NotDue')

        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12 -Minutes 1)
        Add-AdeSimDevice -Server $second.Token.Name -Count 2 | Out-Null
        $due = @(Get-AdeToken | Sync-AdeDevice -IfDue)
        $due.Status | Should -Be @('Succeeded', 'Succeeded')
        $due.Trigger | Should -Be @('Automatic', 'Automatic')
        ($due | Where-Object Token -eq $second.Token.Name).Added | Should -Be 2
        @((Get-AdeSyncStatus -Token $second.Token).History).Count | Should -Be 2
        @((Get-AdeSyncStatus -Token $t.Token).History).Count | Should -Be 2
        # devices of one token piped in give its status once (it came once per device)
        @(Get-AdeDevice -Token $second.Token.Name | Get-AdeSyncStatus).Token | Should -Be @($second.Token.Name)
        # a token named twice in one manual sync's pipeline is synced once, without ManualSyncTooSoon for the second
        $third = New-SimToken -Name "Twice $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        $twice = @($third.Token.Name, $third.Token.Name | Sync-AdeDevice -ErrorVariable e2)
        $twice.Count | Should -Be 1
        $twice[0].Added | Should -Be 2
        $e2 | Should -BeNullOrEmpty
    }

    It '-IfDue over more piped tokens than one batch: order, one result per token and errors hold across the boundary' {
        # Piped tokens are decided in batches (a constant of the engine); put a not-due token and an unknown name on
        # each side of the first boundary so a batch that dropped, repeated or reordered an item would show here.
        $size = (Get-AdeModuleType AdeEnrollment.Engine.Sync.SyncService)::IfDueBatchSize
        $names = @($t.Token.Name) + @(1..($size + 1) | ForEach-Object { (New-SimToken -Name ("Batch {0:d3} {1}" -f $_, [guid]::NewGuid().ToString('N').Substring(0, 4))).Token.Name })
        Add-AdeSimDevice -Server $names[-1] -Count 3 | Out-Null
        $notDue = @($names[$size - 2], $names[$size - 1])
        foreach ($n in $notDue) { Sync-AdeDevice -Token $n | Out-Null }
        $piped = @($names[0..($size - 2)]) + @('No such token') + @($names[($size - 1)..($names.Count - 1)])
        $piped.Count | Should -BeGreaterThan $size

        $results = @($piped | Sync-AdeDevice -IfDue -ErrorVariable e -ErrorAction SilentlyContinue)

        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'TokenNotFound,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        $results.Token | Should -Be $names
        ($results | Where-Object Status -eq 'NotDue').Token | Should -Be $notDue
        @($results | Where-Object Status -eq 'Succeeded').Count | Should -Be ($names.Count - 2)
        $results[-1].Added | Should -Be 3
        $results[0].Added | Should -Be 1500
        foreach ($n in $names) { @((Get-AdeSyncStatus -Token $n).History).Count | Should -Be 1 -Because $n }
    }

    It '-IfDue -ThrottleLimit: several due tokens sync at once, results in the order piped, each token once' {
        $sizes = 40, 1, 25, 7
        $names = @($t.Token.Name) + @($sizes | ForEach-Object { (New-SimToken -Name ("Throttle {0} {1}" -f $_, [guid]::NewGuid().ToString('N').Substring(0, 4)) -Devices $_).Token.Name })
        $piped = $names + @($names[1]) # named twice: its second turn waits for the first and is then not due

        $results = @($piped | Sync-AdeDevice -IfDue -ThrottleLimit 3 -Verbose 4>$null)

        $results.Token | Should -Be $piped
        $results.Status | Should -Be (@('Succeeded') * $names.Count + @('NotDue'))
        $results[0..($names.Count - 1)].Added | Should -Be (@(1500) + $sizes)
        foreach ($n in $names) { @((Get-AdeSyncStatus -Token $n).History).Count | Should -Be 1 -Because $n }
        (Get-AdeDevice -Token $names[1] | Measure-Object).Count | Should -Be 40

        # One at a time gives the same, later on.
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12 -Minutes 1)
        $serial = Add-AdeSimDevice -Server $names[3] -Count 1 | ForEach-Object SerialNumber
        $one = @($names | Sync-AdeDevice -IfDue -ThrottleLimit 1)
        $one.Token | Should -Be $names
        $one.Trigger | Should -Be (@('Automatic') * $names.Count)
        ($one | Where-Object Token -eq $names[3]).Added | Should -Be 1
        (Get-AdeDevice -SerialNumber $serial).Token | Should -Be $names[3]
    }

    It '-IfDue under -ErrorAction Stop: a token that fails ends the pass before the next token starts, which the next pass syncs as usual' {
        $second = New-SimToken -Name "After $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 3
        Sync-AdeDevice -Token $t.Token | Out-Null
        Sync-AdeDevice -Token $second.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12 -Minutes 1)
        Set-AdeSimFault -Endpoint '/devices/sync' -StatusCode 403 -Body 'T_C_NOT_SIGNED' -Count 1
        { $t.Token, $second.Token | Sync-AdeDevice -IfDue -ThrottleLimit 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'AppleTermsNotSigned,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        @((Get-AdeSyncStatus -Token $second.Token).History).Count | Should -Be 1 -Because 'the second token never started'

        $next = @($t.Token, $second.Token | Sync-AdeDevice -IfDue)
        $next.Status | Should -Be @('NotDue', 'Succeeded')
        ($next[1].Kind, $next[1].Trigger) | Should -Be @('Delta', 'Automatic')
    }

    It 'a token Apple refused once (a passing 401) is Active and healthy again after the next successful sync' {
        $once = New-SimToken -Name "Once $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 401 -Count 2 # also refused after a new session
        { Sync-AdeDevice -Token $once.Token -ErrorAction Stop } | Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        (Get-AdeToken -Name $once.Token.Name).Status | Should -Be 'Invalid'
        (Test-AdeHealth -Token $once.Token.Name | Where-Object Check -eq 'TokenRejected').Status | Should -Be 'Fail'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        (Sync-AdeDevice -Token $once.Token).Status | Should -Be 'Succeeded'
        $token = Get-AdeToken -Name $once.Token.Name
        ($token.Status, $token.InvalidReason) | Should -Be @('Active', $null)
        (Test-AdeHealth -Token $once.Token.Name | Where-Object Check -eq 'TokenRejected').Status | Should -Be 'Pass'
    }

    It 'a clock too far from Apple''s is AppleClockSkew, and the token stays Active' {
        $skewed = New-SimToken -Name "Skew $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 1
        Set-AdeSimFault -Endpoint '/session' -StatusCode 401 -Body 'oauth_problem=timestamp_refused'
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 401 -Count 1 # a session already open is refused first
        try {
            $err = { Sync-AdeDevice -Token $skewed.Token -ErrorAction Stop } | Should -Throw -ErrorId 'AppleClockSkew,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $err.Exception.Message | Should -Match 'correct the system clock'
        } finally { Clear-AdeSimFault }
        (Get-AdeToken -Name $skewed.Token.Name).Status | Should -Be 'Active'
    }

    It 'Sync-AdeDevice -IfDue without a token is the pass over every token, as Get-AdeToken | Sync-AdeDevice -IfDue' {
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12 -Minutes 1)
        $all = @(Sync-AdeDevice -IfDue -ErrorAction SilentlyContinue -ErrorVariable failed)
        $names = @(Get-AdeToken).Name
        ($all.Token + @($failed | ForEach-Object TargetObject)) | Sort-Object -Unique | Should -Be ($names | Sort-Object -Unique)
        $all.Token | Should -Contain $t.Token.Name
        (Get-Command Sync-AdeDevice).ParameterSets.Where({ $_.Name -eq 'Manual' }).Parameters.Where({ $_.Name -eq 'Token' }).IsMandatory | Should -BeTrue -Because 'a manual sync still needs its token'
    }

    It 'takes the token of a piped profile or row; a list given to -Token is refused, not joined into one name' {
        New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        (Get-AdeProfile -Token $t.Token -Name 'Staff' | Sync-AdeDevice).Token | Should -Be $t.Token.Name
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        ([pscustomobject]@{ Token = $t.Token.Name } | Sync-AdeDevice).Trigger | Should -Be 'Manual'
        $err = { Sync-AdeDevice -Token $t.Token.Name, 'Other' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*takes one value, not a list of 2*pipe them*'
        ([pscustomobject]@{ TokenId = $t.Token.Id } | Set-AdeToken -ScopeTag 'From a row' -PassThru).ScopeTags | Should -Be @('From a row')
        # the history reads as text in a CSV, not as a .NET type name
        Get-AdeSyncStatus -Token $t.Token | Export-Csv -Path (Join-Path $TestDrive 'status.csv') -NoTypeInformation
        $history = (Import-Csv (Join-Path $TestDrive 'status.csv')).History
        $history | Should -Not -Match 'System\.'
        $history | Should -BeLike "$($t.Token.Name) Delta Succeeded; $($t.Token.Name) Full Succeeded"
    }

    It '-ThrottleLimit outside 1 to 32, or without -IfDue, is refused before anything runs' {
        { $t.Token | Sync-AdeDevice -IfDue -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        { $t.Token | Sync-AdeDevice -IfDue -ThrottleLimit 33 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        { Sync-AdeDevice -Token $t.Token -Full -ThrottleLimit 2 } | Should -Throw -ErrorId 'AmbiguousParameterSet,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        @((Get-AdeSyncStatus -Token $t.Token).History).Count | Should -Be 0
    }

    It 'marks devices released in ABM RemovedFromAbm with a purge date 45 days later' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serial = (Get-AdeSimDevice -Server $t.Token.Name | Select-Object -First 1).SerialNumber
        Remove-AdeSimDevice -Server $t.Token.Name -SerialNumber $serial | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        (Sync-AdeDevice -Token $t.Token).Removed | Should -Be 1
        $d = Get-AdeDevice -SerialNumber $serial
        $d.AbmState | Should -Be 'RemovedFromAbm'
        $d.PurgeAfter | Should -Be $d.RemovedAt.AddDays(45)
        @(Get-AdeDevice -RemovedFromAbm).SerialNumber | Should -Be @($serial)
    }

    It 'a sync result and Get-AdeSyncStatus give one ExpectedAbmDeliveryMinutes: the devices still assigned in ABM' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $gone = @(Get-AdeSimDevice -Server $t.Token.Name | Select-Object -First 300).SerialNumber
        Remove-AdeSimDevice -Server $t.Token.Name -SerialNumber $gone | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        $r = Sync-AdeDevice -Token $t.Token
        $s = Get-AdeSyncStatus -Token $t.Token.Name
        $r.Removed | Should -Be 300
        $s.DeviceCount | Should -Be 1500 # the removed devices stay in the store until purged
        $r.ExpectedAbmDeliveryMinutes | Should -Be 0.4 # 1,200 devices left in ABM at 3000 a minute
        $s.ExpectedAbmDeliveryMinutes | Should -Be $r.ExpectedAbmDeliveryMinutes
        # a scheduler's run that finds nothing due says the same, for one token and for piped tokens
        $n = Sync-AdeDevice -Token $t.Token -IfDue
        $n.Status | Should -Be 'NotDue'
        $n.ExpectedAbmDeliveryMinutes | Should -Be 0.4
        (Get-AdeToken -Name $t.Token.Name | Sync-AdeDevice -IfDue).ExpectedAbmDeliveryMinutes | Should -Be 0.4
    }

    It 'Remove-AdeDevice warns and the device returns at the next full sync' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serial = (Get-AdeDevice -Token $t.Token.Name | Select-Object -First 1).SerialNumber
        Remove-AdeDevice -SerialNumber $serial -Confirm:$false -WarningVariable w 3>$null
        ($w -join ' ') | Should -Match 'next full sync'
        Get-AdeDevice -SerialNumber $serial -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Set-AdeSimClock -Advance (New-TimeSpan -Days 7)
        Sync-AdeDevice -Token $t.Token -Full | Out-Null
        (Get-AdeDevice -SerialNumber $serial).SerialNumber | Should -Be $serial
    }

    It 'Get-AdeDevice finds one serial, filters unassigned devices, and takes tokens from the pipeline' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serial = (Get-AdeSimDevice -Server $t.Token.Name | Select-Object -Last 1).SerialNumber
        (Get-AdeDevice -SerialNumber $serial.ToLowerInvariant()).SerialNumber | Should -Be $serial
        @(Get-AdeDevice -Unassigned -Token $t.Token.Name).Count | Should -Be 1500
        @(Get-AdeToken -Name $t.Token.Name | Get-AdeDevice).Count | Should -Be 1500
        Get-AdeDevice -SerialNumber 'NOSUCHSERIAL1' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,AdeEnrollment.Commands.GetAdeDeviceCommand'
    }

    It 'honours Retry-After on 503, re-authenticates on 401, survives a dropped connection' {
        # One simulator serves both providers' runs: count only what this sync adds to its request log.
        $busyBefore = @(Get-AdeSimRequest -Path '/server/devices' | Where-Object StatusCode -eq 503).Count
        $sessionsBefore = @(Get-AdeSimRequest -Path '/session').Count
        $refusedBefore = @(Get-AdeSimRequest -Path '/devices/sync' | Where-Object StatusCode -eq 401).Count
        Set-AdeSimFault -Endpoint '/server/devices' -StatusCode 503 -RetryAfterSeconds 1 -Count 1
        Set-AdeSimFault -Endpoint '/devices/sync' -StatusCode 401 -Count 1
        $r = Sync-AdeDevice -Token $t.Token
        $r.Status | Should -Be 'Succeeded'
        $r.Added | Should -Be 1500
        @(Get-AdeSimRequest -Path '/server/devices' | Where-Object StatusCode -eq 503).Count | Should -Be ($busyBefore + 1)
        # The session of New-AdeToken serves the sync until Apple's 401: exactly one new session.
        @(Get-AdeSimRequest -Path '/session').Count | Should -Be ($sessionsBefore + 1)
        @(Get-AdeSimRequest -Path '/devices/sync' | Where-Object StatusCode -eq 401).Count | Should -Be ($refusedBefore + 1)
        Clear-AdeSimFault
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        Set-AdeSimFault -Endpoint '/devices/sync' -DropConnection -Count 1
        (Sync-AdeDevice -Token $t.Token).Status | Should -Be 'Succeeded'
    }

    It 'a failed delta sync leaves a full Recovery sync next; an expired cursor turns into a full re-fetch' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        Set-AdeSimFault -Endpoint '/devices/sync' -StatusCode 500 -Count 20
        Set-AdeSimClock -Waits Instant # the retries' back-off passes on the simulated clock, not in real time
        try {
            { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'AppleServiceUnavailable,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        } finally { Set-AdeSimClock -Waits Real }
        (Get-AdeSyncStatus -Token $t.Token).NextSyncIsFull | Should -BeTrue
        Clear-AdeSimFault
        $n = Sync-AdeDevice -Token $t.Token -IfDue # a scheduler's run before the 15 minutes: NotDue, naming the sync that will run
        ($n.Status, $n.Kind, $n.Trigger) | Should -Be @('NotDue', 'Full', 'Recovery')
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        $r = Sync-AdeDevice -Token $t.Token
        $r.Kind | Should -Be 'Full'
        $r.Trigger | Should -Be 'Recovery'
        Set-AdeSimClock -Advance (New-TimeSpan -Days 8)
        $r = Sync-AdeDevice -Token $t.Token -WarningVariable w 3>$null
        $r.Kind | Should -Be 'Full'
        $r.Trigger | Should -Be 'CursorExpired' # Apple's cursor rule: no sync failed
        ($w -join ' ') | Should -Match 'AppleCursorExpired'
    }

    It 'a token Apple rejects becomes Invalid and the error names Update-AdeToken' {
        Export-AdeSimServerToken -Server $t.Token.Name -OutFile (Join-Path $TestDrive 'newer.p7m') | Out-Null
        $err = { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
        $err.Exception.Message | Should -Match 'Update-AdeToken'
        (Get-AdeToken -Name $t.Token.Name).Status | Should -Be 'Invalid'
    }

    It '-WhatIf syncs nothing' {
        Sync-AdeDevice -Token $t.Token -WhatIf | Should -BeNullOrEmpty
        Get-AdeSimRequest -Path '/server/devices' | Where-Object Server -eq $t.Token.Name | Should -BeNullOrEmpty
        @(Get-AdeDevice -Token $t.Token.Name).Count | Should -Be 0
    }

    It 'Get-AdeSyncStatus shows timings, lease and history; Remove-AdeToken names the synced devices' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        $s = Get-AdeSyncStatus -Token $t.Token.Name
        $s.InProgress | Should -BeFalse
        $s.LastStatus | Should -Be 'Succeeded'
        $s.NextManualSyncAt | Should -Be $s.LastSyncAt.AddMinutes(15)
        $s.NextFullSyncAt | Should -Be $s.LastSyncAt.AddDays(7)
        $s.NextSyncIsFull | Should -BeFalse
        $s.DeviceCount | Should -Be 1500
        $s.History.Count | Should -Be 1
        $err = { Remove-AdeToken -Token $t.Token -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'TokenHasDependents,AdeEnrollment.Commands.RemoveAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match '1,500 devices'
    }
}

Describe 'What a sync shows back' {
    BeforeAll {
        function Use-TimeZone([string] $Id) {
            # .NET reads $env:TZ on Linux and macOS; the cached local zone must be dropped for it to take effect.
            $script:savedTz = $env:TZ
            if (-not $IsWindows -and (Test-Path "/usr/share/zoneinfo/$Id")) { $env:TZ = $Id; [TimeZoneInfo]::ClearCachedData(); return $true }
            $false
        }
        function Restore-TimeZone { $env:TZ = $script:savedTz; [TimeZoneInfo]::ClearCachedData() }
        function Format-Local($Time) { $Time.ToLocalTime().ToString('yyyy-MM-dd HH:mm zzz') }
    }

    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        Connect-AdeStore -Path (Join-Path $TestDrive "show-$([guid]::NewGuid().ToString('N')).db")
        $script:t = New-SimToken -Name "Show $([guid]::NewGuid().ToString('N').Substring(0, 8))" -Devices 300
    }

    It 'counts Apple''s events apart from the default profile the sync assigned, and shows both' {
        $p = New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity
        Set-AdeDefaultProfile -Token $t.Token -Profile $p | Out-Null
        $r = Sync-AdeDevice -Token $t.Token
        $r.Added | Should -Be 300
        $r.Modified | Should -Be 0
        $r.DefaultProfileAssigned | Should -Be 300
        # in a 120-column console: no column of the view is dropped
        $table = $r | Format-Table | Out-String -Width 120
        $table | Should -Match 'Token\s+StartedAt\s+Kind\s+Trigger\s+Status\s+Added\s+Modified\s+Removed\s+DefaultAssigned\s+Duration'
        $table | Should -Match '300\s+0\s+0\s+300\s+\d+\.\ds'
        # The next sync reads Apple's echo of those assignments: no modification by Apple, nothing assigned again.
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        $next = Sync-AdeDevice -Token $t.Token
        ($next.Added, $next.Modified, $next.DefaultProfileAssigned) | Should -Be @(0, 0, 0)
    }

    It 'the table counts the devices that arrived without a profile and got no default' {
        Add-AdeSimDevice -Server $t.Token.Name -Count 2 -DeviceFamily Mac | Out-Null
        $p = New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity
        Set-AdeDefaultProfile -Token $t.Token -Profile $p | Out-Null # an iOS default only: the Macs get none
        $r = Sync-AdeDevice -Token $t.Token
        ($r.DefaultProfileAssigned, ($r.WithoutDefaultProfile | Where-Object Platform -eq 'macOS').Count) | Should -Be @(300, 2)
        ($r | Format-Table | Out-String -Width 120) | Should -Match '302\s+0\s+0\s+300 \(2 none\)\s+\d+\.\ds'
    }

    It 'devices Apple refuses the default profile are one warning per platform for the run, whose remedy runs' {
        $p = New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity
        Set-AdeDefaultProfile -Token $t.Token -Profile $p | Out-Null
        $serials = @(Get-AdeSimDevice -Server $t.Token.Name | Select-Object -First 2).SerialNumber
        Set-AdeSimFault -Server $t.Token.Name -SerialNumber $serials -DeviceStatus Failed -Count 1
        $r = Sync-AdeDevice -Token $t.Token -WarningVariable w -WarningAction SilentlyContinue
        $r.DefaultProfileAssigned | Should -Be 298
        @($w).Count | Should -Be 1
        "$w" | Should -Match "^2 of 300 new iOS devices of token '$([regex]::Escape($t.Token.Name))' did not get the default profile"
        Set-AdeSimClock -Advance (New-TimeSpan -Days 1 -Minutes 1) # past the 24 hours a FAILED device is held back
        $remedy = ("$w" -split 'Assign it with: ')[1] -replace '<iOS profile>', "'Staff'"
        (Invoke-Expression $remedy).Status | Should -Be @('Success', 'Success')
    }

    It 'a default assignment Apple could not take (503) makes the next scheduled sync a full one that gives it' {
        $p = New-AdeProfile -Token $t.Token -Name 'Staff' -UserAffinity WithUserAffinity
        Set-AdeDefaultProfile -Token $t.Token -Profile $p | Out-Null
        Set-AdeSimFault -Endpoint '/profile/devices' -StatusCode 503 | Out-Null
        Set-AdeSimClock -Waits Instant
        try {
            $r = Sync-AdeDevice -Token $t.Token -WarningVariable w -WarningAction SilentlyContinue
        } finally { Set-AdeSimClock -Waits Real }
        ($r.Status, $r.DefaultProfileAssigned) | Should -Be @('Succeeded', 0)
        "$w" | Should -Match 'is a full one and offers it again'
        (Get-AdeSyncStatus -Token $t.Token).NextSyncIsFull | Should -BeTrue
        Clear-AdeSimFault
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12 -Minutes 1) # the scheduler's next due pass (not every 15 minutes)
        $next = Sync-AdeDevice -Token $t.Token -IfDue
        ($next.Kind, $next.Trigger, $next.DefaultProfileAssigned) | Should -Be @('Full', 'Recovery', 300)
    }

    It 'shows times in the session''s local time with the offset, and messages name the zone' {
        $zoned = Use-TimeZone 'Asia/Kolkata'
        try {
            $r = Sync-AdeDevice -Token $t.Token
            $r.StartedAt | Should -BeOfType ([DateTimeOffset])
            ($r | Format-Table | Out-String -Width 250) | Should -BeLike "*$(Format-Local $r.StartedAt)*"
            $s = Get-AdeSyncStatus -Token $t.Token.Name
            $view = $s | Format-Table | Out-String -Width 120
            $view | Should -Match 'Token\s+LastSyncAt\s+LastStatus\s+InProgress\s+NextManualSyncAt\s+NextAutomaticSyncAt\s+Devices'
            $view | Should -BeLike "*$(Format-Local $s.LastSyncAt)*"
            $view | Should -BeLike "*$(Format-Local $s.NextManualSyncAt)*"
            $view | Should -BeLike "*$(Format-Local $s.NextAutomaticSyncAt)*"
            $view | Should -Match 'NextAutomaticSyncAt'
            if ($zoned) { $view | Should -Match '\+05:30' }
            (Get-AdeTokenRequest | Format-Table | Out-String -Width 250) | Should -BeLike "*$(Format-Local (Get-AdeTokenRequest)[0].CreatedAt)*"
            $err = { Sync-AdeDevice -Token $t.Token -ErrorAction Stop } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*$($s.NextManualSyncAt.ToString('u'))*" # 'u' ends with Z: the zone is named
        } finally { Restore-TimeZone }
    }

    It 'shows each sync of the history with when it ran, and never 0001-01-01' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 1)
        Sync-AdeDevice -Token $t.Token -IfDue | Out-Null
        $s = Get-AdeSyncStatus -Token $t.Token.Name
        $s.History.Count | Should -Be 2
        $table = $s.History | Format-Table | Out-String -Width 250
        $table | Should -Match 'StartedAt'
        foreach ($h in $s.History) { $table | Should -BeLike "*$(Format-Local $h.StartedAt)*" }
        $everything = @(
            $s | Format-Table | Out-String -Width 250
            $s | Format-List * | Out-String -Width 250
            $s.History | Format-Table | Out-String -Width 250
            $s.History | Format-List * | Out-String -Width 250
            Get-AdeToken | Format-List * | Out-String -Width 250
        ) -join "`n"
        $everything | Should -Not -Match '0001-01-01|0*1/0*1/0001'
    }

    It '-IfDue NotDue names when the scheduled sync really runs' {
        $first = Sync-AdeDevice -Token $t.Token
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 1)
        $r = @(Sync-AdeDevice -Token $t.Token -IfDue -Verbose 4>&1)
        $result = $r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $result | Should -BeOfType ((Get-AdeModuleType AdeEnrollment.Engine.Model.AdeSyncResult))
        $result.Status | Should -Be 'NotDue'
        $s = Get-AdeSyncStatus -Token $t.Token.Name
        $result.NextAutomaticSyncAt | Should -Be $s.LastSuccessfulSyncAt.AddHours(12)
        $result.NextAutomaticSyncAt | Should -Be $s.NextAutomaticSyncAt
        $result.NextAutomaticSyncAt | Should -BeGreaterThan $result.NextManualSyncAt
        ($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join ' ' | Should -BeLike "*$($result.NextAutomaticSyncAt.ToString('u'))*"
    }

    It 'a clock that went backwards does not lock the token out: one warning, then the usual rules' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Days -365)
        (Get-AdeSyncStatus -Token $t.Token.Name).NextManualSyncAt | Should -BeLessOrEqual ([DateTimeOffset]::UtcNow.AddDays(-364))
        $r = Sync-AdeDevice -Token $t.Token -WarningVariable w 3>$null
        $r.Status | Should -Be 'Succeeded'
        @($w).Count | Should -Be 1
        "$w" | Should -Match 'clock'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 1)
        { Sync-AdeDevice -Token $t.Token -ErrorAction Stop -WarningVariable w2 3>$null } | Should -Throw -ErrorId 'ManualSyncTooSoon,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 12)
        $auto = Sync-AdeDevice -Token $t.Token -IfDue -WarningVariable w3 3>$null
        $auto.Status | Should -Be 'Succeeded'
        @($w3).Count | Should -Be 0
    }

    It 'the lease of a sync that died before the clock went backwards does not hold the token until the clock catches up' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 20)
        # what a process that died mid-sync leaves: a Running history row and its lease
        $now = (Get-AdeSyncStatus -Token $t.Token.Name).LastSyncAt.AddMinutes(20).ToUnixTimeMilliseconds()
        $store = (Get-AdeStore).Path
        $sql = "INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ('$($t.Token.Id)', 'Delta', 'Manual', 'Running', $now);" +
            "UPDATE sync_state SET lease_id = 'dead', lease_expires_at = $($now + 900000), lease_history_id = (SELECT max(id) FROM sync_history), last_started_at = $now;"
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$store;Pooling=False")
        try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $sql; $cmd.ExecuteNonQuery() | Out-Null } finally { $c.Dispose() }
        (Get-AdeSyncStatus -Token $t.Token.Name).InProgress | Should -BeTrue
        Set-AdeSimClock -Advance (New-TimeSpan -Days -2)
        (Get-AdeSyncStatus -Token $t.Token.Name).InProgress | Should -BeFalse
        $health = Test-AdeHealth -Token $t.Token.Name | Where-Object Check -EQ 'SyncLease'
        $health.Status | Should -Be 'Warning'
        $health.Detail | Should -Match 'clock went backwards'
        $r = Sync-AdeDevice -Token $t.Token -WarningAction SilentlyContinue
        $r.Status, $r.Kind, $r.Trigger | Should -Be 'Succeeded', 'Full', 'Recovery'
    }

    It 'a warning the caller turns into a stop (-WarningAction Stop) ends the sync Stopped with PowerShell''s error and releases its lease' {
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Days 1)
        Sync-AdeDevice -Token $t.Token | Out-Null
        Set-AdeSimClock -Reset # the clock goes back a day: the next sync warns of a history from the future
        $err = { Sync-AdeDevice -Token $t.Token -WarningAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ActionPreferenceStop*'
        $status = Get-AdeSyncStatus -Token $t.Token
        $status.InProgress | Should -BeFalse
        "$($status.History[0].Status)" | Should -Be 'Stopped'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        (Sync-AdeDevice -Token $t.Token -WarningAction SilentlyContinue).Status | Should -Be 'Succeeded'
    }
}
