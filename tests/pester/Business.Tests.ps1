# Apple Business API through the cmdlets against the simulator: accounts, the client assertion (checked here with
# plain .NET, independently of the engine), inventory, MDM servers, the purchase-to-enrollment pipeline, limits.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 5151

    function ConvertFrom-Base64Url([string] $Text) {
        $s = $Text.Replace('-', '+').Replace('_', '/')
        switch ($s.Length % 4) { 2 { $s += '==' } 3 { $s += '=' } }
        [Convert]::FromBase64String($s)
    }

    function Invoke-InOtherProcess([string] $Body) {
        # $Body runs in a fresh pwsh on this session's store and sets $outcome; its values come back as an array
        $store = (Get-AdeStore).Path
        $result = Join-Path $TestDrive ("other-" + [guid]::NewGuid().ToString('N') + '.json')
        $file = Join-Path $TestDrive ("other-" + [guid]::NewGuid().ToString('N') + '.ps1')
        Set-Content $file @"
`$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
Connect-AdeStore -Path '$store'
$Body
ConvertTo-Json -InputObject @(`$outcome) | Set-Content '$result'
"@
        $p = Start-Process -FilePath (Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')) -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -PassThru
        $p.WaitForExit()
        @(Get-Content -Raw $result | ConvertFrom-Json)
    }

    function New-TestAccount {
        # -GetPerMinute: for a test that reads the inventory several times (each read lists every server of the shared
        # simulator's organisation, whose number grows with the tests before it)
        param([switch] $Pkcs8, [switch] $School, [int] $GetPerMinute = 0)
        $format = if ($Pkcs8) { 'Pkcs8' } else { 'Sec1' }
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "key-$([guid]::NewGuid().ToString('N')).pem") -KeyFormat $format -School:$School
        $budget = if ($GetPerMinute -gt 0) { @{ GetPerMinute = $GetPerMinute } } else { @{} }
        $account = New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri @budget
        [pscustomobject]@{ Sim = $sa; Account = $account }
    }

    function Send-WithOutcome([string] $Outcome, [int] $Count) {
        # a new account, token and org devices; the simulator ends the next activities with $Outcome; the devices are
        # sent with -Wait; returns the token, the devices, the activity and the warnings
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = @(Add-AdeSimOrgDevice -Count $Count)
        Set-AdeSimBusinessApi -ActivityOutcome $Outcome
        $r = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        [pscustomobject]@{ Token = $t; Devices = $d; Activity = $r; Warnings = @($w) }
    }
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Apple Business API' {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        Set-AdeSimBusinessApi -GetPerMinute 0 -PostPerHour 0 -ActivityDuration ([timespan]::Zero) -ActivityOutcome None
        Connect-AdeStore -Path (Join-Path $TestDrive "biz-$([guid]::NewGuid().ToString('N')).db")
    }

    It 'stores an API account without ever showing its key; Business or School from the client ID' {
        $a = New-TestAccount
        $a.Account | Should -BeOfType (Get-AdeModuleType AdeEnrollment.Engine.Business.AdeBusinessAccount)
        $a.Account.Kind | Should -Be 'Business'
        $a.Account.Scope | Should -Be 'business.api'
        $a.Account.PSObject.Properties.Name | Should -Not -Contain 'PrivateKey'
        $school = New-TestAccount -Pkcs8 -School
        $school.Account.Kind | Should -Be 'School'
        @(Get-AdeBusinessAccount).Count | Should -Be 2
        $pemBody = ((Get-Content -Raw $a.Sim.KeyPath) -split "`n" | Where-Object { $_ -and $_ -notmatch '-----' }) -join ''
        $storeText = [Text.Encoding]::ASCII.GetString([IO.File]::ReadAllBytes((Get-AdeStore).Path))
        $storeText.Contains($pemBody.Substring(0, 40)) | Should -BeFalse
        (Get-AdeBusinessAccount | Out-String) | Should -Not -Match 'PRIVATE KEY'
        { New-AdeBusinessAccount -ClientId $a.Sim.ClientId -KeyId $a.Sim.KeyId -KeyPath $a.Sim.KeyPath -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessAccountExists,AdeEnrollment.Commands.NewAdeBusinessAccountCommand'
        $bad = Join-Path $TestDrive 'bad.pem'
        Set-Content $bad "-----BEGIN CERTIFICATE-----`nAAAA`n-----END CERTIFICATE-----"
        { New-AdeBusinessAccount -ClientId "BUSINESSAPI.$([guid]::NewGuid())" -KeyId ([guid]::NewGuid()) -KeyPath $bad -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessKeyInvalid,AdeEnrollment.Commands.NewAdeBusinessAccountCommand'
        # a file with another key before the account's: refused, never guessed
        $other = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        Set-Content $bad ($other.ExportECPrivateKeyPem() + "`n" + (Get-Content -Raw $a.Sim.KeyPath))
        $err = { New-AdeBusinessAccount -ClientId "BUSINESSAPI.$([guid]::NewGuid())" -KeyId ([guid]::NewGuid()) -KeyPath $bad -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessKeyInvalid,AdeEnrollment.Commands.NewAdeBusinessAccountCommand' -PassThru
        $err.Exception.Message | Should -Match 'more than one private key'
        Remove-AdeBusinessAccount -ClientId $school.Account.ClientId -Confirm:$false
        @(Get-AdeBusinessAccount).Count | Should -Be 1
        $err = { New-AdeBusinessAccount -ClientId "BUSINESSAPI.$([guid]::NewGuid())" -KeyId ([guid]::NewGuid()) -KeyPath $a.Sim.KeyPath -TokenUri 'http://svc:P4ssw0rd@127.0.0.1:9/token' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeBusinessAccountCommand' -PassThru
        ($err | Format-List * -Force | Out-String) + "$($err.TargetObject)" | Should -Not -Match 'P4ssw0rd'
        @(Get-AdeBusinessAccount).Count | Should -Be 1
        # with one account in the store, Set-AdeBusinessAccount needs no -ClientId; -Account and Tab work as elsewhere
        (Set-AdeBusinessAccount -GetPerMinute 30 -PassThru).GetsPerMinute | Should -Be 30
        (Set-AdeBusinessAccount -Account $a.Sim.ClientId -GetsPerMinute 0 -PassThru).GetsPerMinute | Should -BeNullOrEmpty
        $line = "Get-AdeOrgDevice -Account $($a.Sim.ClientId.Substring(0, 14))"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain $a.Sim.ClientId
        # rows of a CSV are accounts of their own: one that exists already does not keep the next from being stored
        $rows = @(
            [pscustomobject]@{ ClientId = $a.Sim.ClientId; KeyId = $a.Sim.KeyId; KeyPath = $a.Sim.KeyPath }
            [pscustomobject]@{ ClientId = $school.Sim.ClientId; KeyId = $school.Sim.KeyId; KeyPath = $school.Sim.KeyPath; TokenUri = $school.Sim.TokenUri; ServiceUri = $school.Sim.ServiceUri }
        )
        $stored = @($rows | New-AdeBusinessAccount -ErrorVariable refused -ErrorAction SilentlyContinue)
        $refused.FullyQualifiedErrorId | Should -Be 'BusinessAccountExists,AdeEnrollment.Commands.NewAdeBusinessAccountCommand'
        $stored.ClientId | Should -Be $school.Sim.ClientId
        @(Get-AdeBusinessAccount).Count | Should -Be 2
        { Set-AdeBusinessAccount -GetPerMinute 30 -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessAccountAmbiguous,AdeEnrollment.Commands.SetAdeBusinessAccountCommand'
        # a pattern that matches both says so (it said the store holds 2 accounts and to name one, which it had)
        $err = { Get-AdeMdmServer -Account '*API.*' -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessAccountAmbiguous,AdeEnrollment.Commands.GetAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -BeLike "-Account '*API.*' matches 2 API accounts*"
        Remove-AdeBusinessAccount -ClientId $school.Sim.ClientId -Confirm:$false
        if (-not $IsWindows) {
            # the simulator writes the account's private key readable by its owner only
            (Get-Item $a.Sim.KeyPath).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        }
    }

    It 'sends an ES256 client assertion in Apple''s format (decoded and verified here with plain .NET)' {
        $a = New-TestAccount
        # a listener of our own in place of the token endpoint captures the form the engine posts
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $capture = Start-ThreadJob -ArgumentList $port -ScriptBlock {
            param($port)
            $l = [Net.HttpListener]::new(); $l.Prefixes.Add("http://127.0.0.1:$port/"); $l.Start()
            try {
                $ctx = $l.GetContext()
                $body = [IO.StreamReader]::new($ctx.Request.InputStream).ReadToEnd()
                $bytes = [Text.Encoding]::UTF8.GetBytes('{"error":"invalid_client"}')
                $ctx.Response.StatusCode = 400; $ctx.Response.ContentType = 'application/json'
                $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length); $ctx.Response.Close()
                $body
            } finally { $l.Stop() }
        }
        Start-Sleep -Milliseconds 500
        Remove-AdeBusinessAccount -ClientId $a.Account.ClientId -Confirm:$false
        New-AdeBusinessAccount -ClientId $a.Sim.ClientId -KeyId $a.Sim.KeyId -KeyPath $a.Sim.KeyPath -TokenUri "http://127.0.0.1:$port/auth/oauth2/token" -ServiceUri $a.Sim.ServiceUri | Out-Null
        { Get-AdeMdmServer -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessClientRejected,AdeEnrollment.Commands.GetAdeMdmServerCommand'
        $form = Receive-Job $capture -Wait -AutoRemoveJob
        $fields = @{}
        foreach ($pair in $form -split '&') { $k, $v = $pair -split '=', 2; $fields[[Uri]::UnescapeDataString($k)] = [Uri]::UnescapeDataString($v.Replace('+', ' ')) }
        $fields.grant_type | Should -Be 'client_credentials'
        $fields.client_id | Should -Be $a.Sim.ClientId
        $fields.scope | Should -Be 'business.api'
        $fields.client_assertion_type | Should -Be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        $parts = $fields.client_assertion -split '\.'
        $parts.Count | Should -Be 3
        $fields.client_assertion | Should -Not -Match '='
        $header = [Text.Encoding]::UTF8.GetString((ConvertFrom-Base64Url $parts[0])) | ConvertFrom-Json
        $claims = [Text.Encoding]::UTF8.GetString((ConvertFrom-Base64Url $parts[1])) | ConvertFrom-Json
        $header.alg | Should -Be 'ES256'
        $header.kid | Should -Be $a.Sim.KeyId
        $claims.iss | Should -Be $a.Sim.ClientId
        $claims.sub | Should -Be $a.Sim.ClientId
        $claims.aud | Should -BeExactly 'https://account.apple.com/auth/oauth2/v2/token'
        ($claims.exp - $claims.iat) | Should -BeGreaterThan 0
        ($claims.exp - $claims.iat) | Should -BeLessOrEqual (180 * 86400)
        [guid]::Parse($claims.jti) | Should -Not -BeNullOrEmpty
        $signature = ConvertFrom-Base64Url $parts[2]
        $signature.Length | Should -Be 64
        $key = [Security.Cryptography.ECDsa]::Create()
        $key.ImportFromPem((Get-Content -Raw $a.Sim.KeyPath))
        $key.VerifyData([Text.Encoding]::ASCII.GetBytes($parts[0] + '.' + $parts[1]), $signature,
            [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.DSASignatureFormat]::IeeeP1363FixedFieldConcatenation) | Should -BeTrue
    }

    It 'from purchase to enrollment in one pipeline: order → assign to the token''s server → sync → devices arrive' {
        $a = New-TestAccount
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Sync-AdeDevice -Token $t.Token | Out-Null
        New-AdeProfile -Token $t.Token.Name -Name 'Shop iPads' -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeDefaultProfile -Token $t.Token.Name -Profile 'Shop iPads'
        $bought = Add-AdeSimOrgDevice -Count 4 -OrderNumber 'PO-4711' -ProductFamily iPad -OrderDate ([DateTimeOffset]::UtcNow.AddDays(-3))
        Add-AdeSimOrgDevice -Count 2 -OrderNumber 'PO-0815' | Out-Null

        $server = Get-AdeMdmServer -Name $t.Token.Name
        $server.Token | Should -Be $t.Token.Name
        $server.IdMatchesToken | Should -BeTrue
        Get-AdeMdmServer -Name 'No such server' -ErrorVariable missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $missing.FullyQualifiedErrorId | Should -Be 'BusinessServerNotFound,AdeEnrollment.Commands.GetAdeMdmServerCommand'
        # several names, given or piped as strings, as Get-AdeToken -Name takes them: one error for the one not found
        $two = @(Get-AdeMdmServer -Name $t.Token.Name, 'No such server', $server.Id -ErrorVariable missing2 -ErrorAction SilentlyContinue)
        $two.Count | Should -Be 1
        $missing2.Count | Should -Be 1
        @($t.Token.Name | Get-AdeMdmServer).Id | Should -Be $server.Id

        $activity = Get-AdeOrgDevice -OrderNumber 'PO-4711' | Set-AdeOrgDeviceServer -Token $t.Token -Wait
        $activity.Status | Should -Be 'COMPLETED'
        $activity.SubStatus | Should -Be 'COMPLETED_WITH_SUCCESS'
        $activity.Succeeded | Should -Be 4
        $activity.Devices.Count | Should -Be 4

        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        $sync = Sync-AdeDevice -Token $t.Token
        $sync.Added | Should -Be 4
        $arrived = @(Get-AdeDevice -Token $t.Token.Name)
        ($arrived.SerialNumber | Sort-Object) | Should -Be ($bought.SerialNumber | Sort-Object)
        $arrived.EnrollmentProfileName | Sort-Object -Unique | Should -Be 'Shop iPads'
        (Get-AdeSimDevice -Server $t.Token.Name).ProfileStatus | Sort-Object -Unique | Should -Be 'assigned'
        @(Get-AdeOrgDevice -Status Assigned -MdmServer $t.Token.Name).Count | Should -Be 4
        (Get-AdeOrgDeviceActivity -Id $activity.Id).Token | Should -Be $t.Token.Name

        # unassign one: it leaves the server in the next sync
        $off = $bought[0].SerialNumber | Clear-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait
        $off.Succeeded | Should -Be 1
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        (Sync-AdeDevice -Token $t.Token).Removed | Should -Be 1
    }

    It 'release asks (High impact), -WhatIf sends nothing, and an activity is followed later with Get-AdeOrgDeviceActivity' {
        New-TestAccount | Out-Null
        Set-AdeSimBusinessApi -ActivityDuration (New-TimeSpan -Seconds 30)
        $d = Add-AdeSimOrgDevice -Count 1
        (Get-Command Remove-AdeOrgDevice).ImplementingType.GetCustomAttributes($true) |
            Where-Object { $_ -is [System.Management.Automation.CmdletAttribute] } |
            ForEach-Object ConfirmImpact | Should -Be 'High'
        $before = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities').Count
        $d | Remove-AdeOrgDevice -WhatIf | Should -BeNullOrEmpty
        # one summary line after the per-device ones, as the DEP device cmdlets write it
        ($d | Remove-AdeOrgDevice -WhatIf 6>&1 | Out-String) | Should -Match 'What if: 1 device would be sent to Apple: Release from the organisation at Apple .*\(1 activity of the account''s \d+ an hour\)'
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities').Count | Should -Be $before
        $job = $d | Remove-AdeOrgDevice -Confirm:$false
        $job.Status | Should -Be 'IN_PROGRESS'
        $job.Action | Should -Be 'Release'
        Set-AdeSimClock -Advance (New-TimeSpan -Seconds 31)
        $done = Get-AdeOrgDeviceActivity -Id $job.Id -Refresh
        $done.Status | Should -Be 'COMPLETED'
        $done.Devices[0].Detail | Should -Be 'RELEASED'
        Get-AdeSimOrgDevice -SerialNumber $d.SerialNumber | Should -BeNullOrEmpty
    }

    It 'devices the store saw released are left out of a later command with one warning naming them all' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = @(Add-AdeSimOrgDevice -Count 3)
        $d[0..1] | Remove-AdeOrgDevice -Confirm:$false -Wait | Out-Null
        $r = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -WarningVariable w -WarningAction SilentlyContinue
        $r.DeviceCount | Should -Be 1
        @($w).Count | Should -Be 1
        "$w" | Should -Match '^2 devices were released from the organisation'
        foreach ($serial in $d[0..1].SerialNumber) { "$w" | Should -Match $serial }
    }

    It 'reports failed devices per device and refuses unknown servers and serials with catalogued errors' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        $on = (Get-AdeSimDevice -Server $t.Token.Name).SerialNumber
        $r = $on | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        $r.SubStatus | Should -Be 'COMPLETED_WITH_ERROR'
        $r.Failed | Should -Be 2
        $w | Should -Match '2 devices of 2 not changed'
        { 'C02ZZZZZZZZZ' | Set-AdeOrgDeviceServer -MdmServer 'No such server' -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerNotFound,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        { Get-AdeOrgDevice -SerialNumber 'C02ZZZZZZZZZ' -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessDeviceNotFound,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
        { Get-AdeOrgDevice -Account 'BUSINESSAPI.nope' -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessAccountNotFound,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
    }

    It 'Get-AdeOrgDevice: an unknown serial among the serials is a non-terminating BusinessDeviceNotFound; the others are still read' {
        New-TestAccount | Out-Null
        $known = @((Add-AdeSimOrgDevice -Count 2).SerialNumber)
        $out = @($known[0], 'C02ZZZZZZZZZ', $known[1] | Get-AdeOrgDevice -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.SerialNumber | Should -Be $known
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'BusinessDeviceNotFound,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
        $e[0].TargetObject | Should -Be 'C02ZZZZZZZZZ'
        $out = @(Get-AdeOrgDevice -SerialNumber $known[0], 'C02ZZZZZZZZZ', $known[1] -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.SerialNumber | Should -Be $known
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'BusinessDeviceNotFound,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
    }

    It 'an activity Apple completes without a log is no silent success: Unknown counts its devices and a warning says to check them (simulator switch -ActivityOutcome CompletedPostProcessingFailed)' {
        $sent = Send-WithOutcome CompletedPostProcessingFailed 2
        $t, $d, $r, $w = $sent.Token, $sent.Devices, $sent.Activity, $sent.Warnings
        $r.Status | Should -Be 'COMPLETED'
        $r.SubStatus | Should -Be 'COMPLETED_POST_PROCESSING_FAILED'
        $r.Succeeded | Should -Be 0
        $r.Failed | Should -Be 0
        $r.Unknown | Should -Be 2
        $r.Devices.Status | Sort-Object -Unique | Should -Be 'UNKNOWN'
        $w.Count | Should -Be 1
        "$w" | Should -Match ([regex]::Escape($r.Id))
        "$w" | Should -Match 'Get-AdeOrgDevice -SerialNumber'
        foreach ($s in $d.SerialNumber) { "$w" | Should -Match $s }
        ($r | Out-String -Width 400) | Should -Match 'Unknown'
        # the check the warning asks for: Apple did assign them
        @(Get-AdeOrgDevice -SerialNumber $d.SerialNumber | Where-Object MdmServer -eq $t.Token.Name).Count | Should -Be 2
        (Get-AdeOrgDeviceActivity -Id $r.Id -Refresh).Unknown | Should -Be 2
    }

    It 'an activity Apple fails without a log is one warning of unknown outcome, not also one saying the devices were not changed (-ActivityOutcome FailedWithoutLog)' {
        $sent = Send-WithOutcome FailedWithoutLog 2
        $t, $d, $r, $w = $sent.Token, $sent.Devices, $sent.Activity, $sent.Warnings
        $r.Status | Should -Be 'FAILED'
        $r.Unknown | Should -Be 2
        $r.Failed | Should -Be 0
        $w.Count | Should -Be 1
        "$w" | Should -Match ([regex]::Escape($r.Id))
        "$w" | Should -Match 'may or may not have been changed'
        @(Get-AdeOrgDevice -SerialNumber $d.SerialNumber | Where-Object MdmServer -eq $t.Token.Name).Count | Should -Be 0
    }

    It 'an activity Apple marks COMPLETED_WITH_FAILURE while its log lists every device as changed says so, and never that the devices were not changed' {
        $sent = Send-WithOutcome CompletedWithFailure 1
        $t, $d, $r, $w = $sent.Token, $sent.Devices, $sent.Activity, $sent.Warnings
        ($r.Succeeded, $r.Failed) | Should -Be @(1, 0)
        "$w" | Should -Not -Match 'not changed'
        "$w" | Should -Match 'its log lists every device as changed'
        (Get-AdeOrgDevice -SerialNumber $d.SerialNumber).MdmServer | Should -Be $t.Token.Name
    }

    It 'Get-AdeOrgDeviceActivity -Refresh goes on past an activity Apple no longer has, with one warning' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = @(Add-AdeSimOrgDevice -Count 2)
        Set-AdeSimBusinessApi -ActivityDuration '00:00:10'
        $gone = $d[0] | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name
        $kept = $d[1] | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name
        ($gone.Status, $gone.SubStatus) | Should -Be @('IN_PROGRESS', 'SUBMITTED') -Because 'the answer to the POST says SUBMITTED, as Apple documents'
        Set-AdeSimClock -Advance '00:00:11'
        Set-AdeSimFault -Endpoint "/v1/orgDeviceActivities/$($gone.Id)" -StatusCode 404 -Body '{"errors":[{"status":"404","code":"NOT_FOUND"}]}'
        $r = Get-AdeOrgDeviceActivity -Refresh -WarningVariable w -WarningAction SilentlyContinue
        ($r | Where-Object Id -eq $kept.Id).Status | Should -Be 'COMPLETED'
        ($r | Where-Object Id -eq $gone.Id).Status | Should -Be 'IN_PROGRESS'
        @($w).Count | Should -Be 1
        "$w" | Should -Match "Apple no longer has device activity '$($gone.Id)'"
        $err = { Get-AdeOrgDeviceActivity -Id $gone.Id -Refresh -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessActivityExpired,AdeEnrollment.Commands.GetAdeOrgDeviceActivityCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Remove-AdeOrgDevice with an Apple School Manager account is BusinessReleaseNotInSchool and sends nothing' {
        $school = New-TestAccount -School
        $d = @(Add-AdeSimOrgDevice -Count 1)
        $before = @(Get-AdeSimRequest).Count
        $err = { $d | Remove-AdeOrgDevice -Account $school.Account.ClientId -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessReleaseNotInSchool,AdeEnrollment.Commands.RemoveAdeOrgDeviceCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        @(Get-AdeSimRequest).Count | Should -Be $before
    }

    It 'the simulator has one release switch: Set-AdeSimServer -AllowDeviceRelease and Set-AdeMdmServer -AllowRelease agree, and Unregister-AdeDevice follows them' {
        New-TestAccount -GetPerMinute 200 | Out-Null
        $t = New-SimToken -Name "Rel $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        Sync-AdeDevice -Token $t.Token | Out-Null
        $serials = @(Get-AdeDevice -Token $t.Token.Name).SerialNumber
        (Get-AdeMdmServer -Name $t.Token.Name).AllowRelease | Should -BeTrue # a DEP server of the simulator may release, as Unregister-AdeDevice finds
        Set-AdeSimServer -Server $t.Token.Name -AllowDeviceRelease $false | Out-Null
        (Get-AdeMdmServer -Name $t.Token.Name).AllowRelease | Should -BeFalse
        { Unregister-AdeDevice -SerialNumber $serials[0] -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ReleaseNotAllowed,*'
        Set-AdeMdmServer -MdmServer $t.Token.Name -AllowRelease $true
        (Unregister-AdeDevice -SerialNumber $serials[0] -Confirm:$false).Status | Should -Be 'Success'
    }

    It 'lists Apple''s own services with their type and refuses the Apple Configurator entry as a target, sending nothing' {
        New-TestAccount -GetPerMinute 200 | Out-Null
        $name = "Devices Added by Apple Configurator $([guid]::NewGuid().ToString('N').Substring(0, 4))"
        $t = New-SimToken -Name $name
        (Set-AdeSimServer -Server $name -ServerType APPLE_CONFIGURATOR).ServerType | Should -Be 'APPLE_CONFIGURATOR'
        (Get-AdeMdmServer -Name $name).ServerType | Should -Be 'APPLE_CONFIGURATOR'
        $d = Add-AdeSimOrgDevice -Count 1
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $err = { $d | Set-AdeOrgDeviceServer -MdmServer $name -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand' -PassThru
        $err.Exception.Message | Should -Match 'APPLE_CONFIGURATOR.*Assign the devices to an MDM server'
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be $posts
        { Set-AdeSimServer -Server $name -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,*'
    }

    It 'twelve serials of a small organisation fit the default GET budget: read from the listing, in the order given' {
        $org = "Small $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive "$org.pem") | Out-Null
        New-AdeSimServer -Name $org -PublicKeyPath (Join-Path $TestDrive "$org.pem") -OutFile (Join-Path $TestDrive "$org.p7m") -OrgName $org | Out-Null
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "$org-api.pem") -OrgName $org
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri | Out-Null # the default 20 GET/min
        $serials = @((Add-AdeSimOrgDevice -Count 12 -OrgName $org).SerialNumber)
        [array]::Reverse($serials)
        $before = @(Get-AdeSimRequest).Count
        $read = @(Get-AdeOrgDevice -Account $sa.ClientId -SerialNumber $serials -ErrorAction Stop)
        $read.SerialNumber | Should -Be $serials
        @(Get-AdeSimRequest | Select-Object -Skip $before | Where-Object Path -like '/v1/orgDevices/*').Count | Should -Be 0
    }

    It 'a read answered 503 is asked again after Apple''s Retry-After (-Waits Instant: on the simulated clock)' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Busy $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Set-AdeSimClock -Waits Instant
        try {
            Set-AdeSimFault -Endpoint '/v1/mdmServers' -StatusCode 503 -RetryAfterSeconds 30 -Count 1 | Out-Null
            $before = Get-AdeSimClock
            (Get-AdeMdmServer -ErrorAction Stop).Name | Should -Contain $t.Token.ServerName
            ((Get-AdeSimClock) - $before).TotalSeconds | Should -BeGreaterOrEqual 30
            @(Get-AdeSimRequest -Path '/v1/mdmServers' | Select-Object -Last 2).StatusCode | Should -Be 503, 200
        }
        finally { Set-AdeSimClock -Waits Real }
    }

    It 'Business API errors name the service and the request, say what to do, and show no empty brackets' {
        $a = New-TestAccount
        $service = ([uri]$a.Sim.ServiceUri).GetLeftPart('Path')
        Set-AdeSimFault -Endpoint '/v1/mdmServers' -StatusCode 500 -Count 3
        $err = { Get-AdeMdmServer -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessRequestFailed,AdeEnrollment.Commands.GetAdeMdmServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -Match ([regex]::Escape("Apple's service $service answered 500 to GET /v1/mdmServers for API account '$($a.Sim.ClientId)'. Apple's service is unavailable; try again later."))
        Set-AdeSimFault -Endpoint '/v1/mdmServers' -StatusCode 403 -Count 1
        $denied = { Get-AdeMdmServer -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessAccessDenied,AdeEnrollment.Commands.GetAdeMdmServerCommand' -PassThru
        $denied.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $denied.Exception.Message | Should -Match ([regex]::Escape("Apple's service $service denied API account '$($a.Sim.ClientId)' the request GET /v1/mdmServers (403)."))
        foreach ($m in $err.Exception.Message, $denied.Exception.Message) {
            $m | Should -Not -Match '\(\)|  '
        }
    }

    It 'an activity POST whose connection breaks after Apple carried it out is BusinessNetworkError saying to check the devices' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        Set-AdeSimFault -Endpoint '/v1/orgDeviceActivities' -Method POST -DropConnection -Count 1 -AfterApplying | Out-Null
        $err = { $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessNetworkError,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.Exception.Message | Should -Match 'broke after POST /v1/orgDeviceActivities was sent'
        $err.Exception.Message | Should -Match 'Get-AdeOrgDevice -SerialNumber'
        (Get-AdeOrgDevice -SerialNumber $d.SerialNumber).MdmServer | Should -Be $t.Token.Name
    }

    It 'an activity POST that Apple carries out and then answers 5xx says to check the devices before sending again; they did move (Set-AdeSimFault -AfterApplying)' {
        $a = New-TestAccount
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        { Set-AdeSimFault -Endpoint '/v1/*' -Latency (New-TimeSpan -Seconds 1) -AfterApplying -ErrorAction Stop } | Should -Throw
        Set-AdeSimFault -Endpoint '/v1/orgDeviceActivities' -Method POST -StatusCode 503 -Count 1 -AfterApplying
        $err = { $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessRequestFailed,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -Match ([regex]::Escape("Apple's service $(([uri]$a.Sim.ServiceUri).GetLeftPart('Path')) answered 503 to POST /v1/orgDeviceActivities"))
        $err.Exception.Message | Should -Match 'Apple may have created the activity'
        $err.Exception.Message | Should -Match 'Get-AdeOrgDevice -SerialNumber'
        @(Get-AdeOrgDeviceActivity).Count | Should -Be 0
        $last = Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST' | Select-Object -Last 1
        $last.StatusCode | Should -Be 503
        $last.Fault | Should -BeTrue
        # the check the message asks for shows that Apple carried it out
        (Get-AdeOrgDevice -SerialNumber $d.SerialNumber).MdmServer | Should -Be $t.Token.Name
    }

    It 'a 429 from Apple is a BusinessThrottled error with the time, never a loop; -WaitForLimit waits' {
        New-TestAccount | Out-Null
        Get-AdeMdmServer | Out-Null
        Set-AdeSimBusinessApi -GetPerMinute 1
        Set-AdeSimClock -Advance (New-TimeSpan -Seconds 61)
        Get-AdeMdmServer | Out-Null
        $err = { Get-AdeMdmServer -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessThrottled,AdeEnrollment.Commands.GetAdeMdmServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.Exception.Message | Should -Match '\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ'
        @(Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object StatusCode -eq 429).Count | Should -Be 1
    }

    It 'two processes on one store share Apple''s GET budget, and a Retry-After seen by one holds back the other' {
        function Invoke-OtherProcess([string] $ClientId, [int] $Calls) {
            Invoke-InOtherProcess @"
`$outcome = @()
foreach (`$i in 1..$Calls) {
    try { Get-AdeMdmServer -Account '$ClientId' -ErrorAction Stop | Out-Null; `$outcome += 'ok' } catch { `$outcome += `$_.FullyQualifiedErrorId }
}
"@
        }

        # the budget: 2 GET a minute for this account; the other process spends both, this one is then refused unsent
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'shared.pem')
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri -GetPerMinute 2 | Out-Null
        (Invoke-OtherProcess $sa.ClientId 2) | Should -Be @('ok', 'ok')
        $sent = @(Get-AdeSimRequest -Path '/v1/mdmServers').Count
        { Get-AdeMdmServer -Account $sa.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessThrottled,AdeEnrollment.Commands.GetAdeMdmServerCommand'
        @(Get-AdeSimRequest -Path '/v1/mdmServers').Count | Should -Be $sent

        # Apple's 429 with Retry-After, seen by this process: the other process waits for it too and sends nothing
        $sb = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'shared-b.pem')
        New-AdeBusinessAccount -ClientId $sb.ClientId -KeyId $sb.KeyId -KeyPath $sb.KeyPath -TokenUri $sb.TokenUri -ServiceUri $sb.ServiceUri | Out-Null
        $throttled = @(Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object StatusCode -eq 429).Count
        Set-AdeSimBusinessApi -GetPerMinute 1
        Get-AdeMdmServer -Account $sb.ClientId -ErrorAction Stop | Out-Null
        { Get-AdeMdmServer -Account $sb.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessThrottled,AdeEnrollment.Commands.GetAdeMdmServerCommand'
        $sent = @(Get-AdeSimRequest -Path '/v1/mdmServers').Count
        (Invoke-OtherProcess $sb.ClientId 1) | Should -Be @('BusinessThrottled,AdeEnrollment.Commands.GetAdeMdmServerCommand')
        @(Get-AdeSimRequest -Path '/v1/mdmServers').Count | Should -Be $sent
        @(Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object StatusCode -eq 429).Count | Should -Be ($throttled + 1)
    }

    It 'two processes on one store share Apple''s POST budget: each POST is counted before it is sent, one Apple refused too' {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'posts.pem')
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri -PostPerHour 2 | Out-Null
        $t = New-SimToken -Name "Posts $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $serials = @(Add-AdeSimOrgDevice -Count 3).SerialNumber
        function Invoke-OtherProcess([string] $Serial) {
            Invoke-InOtherProcess "`$outcome = try { '$Serial' | Set-AdeOrgDeviceServer -Account '$($sa.ClientId)' -MdmServer '$($t.Token.Name)' -ErrorAction Stop | Out-Null; 'ok' } catch { `$_.FullyQualifiedErrorId }"
        }

        # the other process sends one activity; this one sends one Apple refuses (409): both count
        (Invoke-OtherProcess $serials[0]) | Should -Be @('ok')
        { 'C02ZZZZZZZZZ' | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessRequestFailed,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        $sent = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $err = { $serials[1] | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessThrottled,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.Exception.Message | Should -Match '\(POST\).*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ'
        (Invoke-OtherProcess $serials[2]) | Should -Be @('BusinessThrottled,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand')
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be $sent # nothing sent
        Set-AdeSimClock -Advance (New-TimeSpan -Hours 1)
        ($serials[1] | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name).Action | Should -Be 'Assign'
    }

    It 'a command stopped by the POST budget after its first batch returns the activity Apple accepted, then the error naming the devices not sent' {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'split.pem')
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri -PostPerHour 1 | Out-Null
        $t = New-SimToken -Name "Split $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $serials = @((Add-AdeSimOrgDevice -Count 1001).SerialNumber)
        $out = [System.Collections.Generic.List[object]]::new()
        $err = $null
        try {
            $serials | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name -ErrorAction Stop | ForEach-Object { $out.Add($_) }
        }
        catch {
            $err = $_
        }

        $err.FullyQualifiedErrorId | Should -Be 'BusinessThrottled,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        $out.Count | Should -Be 1
        $out[0].DeviceCount | Should -Be 1000
        $err.Exception.Message | Should -BeLike "*Apple had accepted activity $($out[0].Id) for 1,000 devices before this failure*"
        $err.Exception.Message | Should -BeLike "*Do not run the whole command again, which would send those devices again: send only the other 1 device ($($serials[1000])) again.*"
        (Get-AdeOrgDeviceActivity -Account $sa.ClientId).Id | Should -Be $out[0].Id
        # Tab offers the stored activity's id, described, and the server it went to
        $line = "Get-AdeOrgDeviceActivity -Id $($out[0].Id.Substring(0, 8))"
        $match = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $match.CompletionText | Should -Be @($out[0].Id)
        $match[0].ToolTip | Should -BeLike "*Assign 1000 device(s) -> $($t.Token.ServerName)*"
        $line = "Clear-AdeOrgDeviceServer -SerialNumber X -MdmServer '$($t.Token.ServerName.Substring(0, 5))"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.ListItemText | Should -Contain $t.Token.ServerName
    }

    It 'an activity Apple refuses as too large goes again in smaller ones; the size Apple took stays the account''s until Set-AdeBusinessAccount changes it' {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'cap.pem')
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri -DevicePerActivity 4 | Out-Null
        $t = New-SimToken -Name "Cap $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $serials = @((Add-AdeSimOrgDevice -Count 9).SerialNumber)
        Set-AdeSimBusinessApi -MaxDevicesPerActivity 3 -ActivityCapAnswer Parameter400
        try {
            $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
            $out = @($serials[0..5] | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name -WarningVariable warned -WarningAction SilentlyContinue)
            $out.DeviceCount | Should -Be @(2, 2, 2)
            @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be ($posts + 4) # one refusal
            @($warned).Count | Should -Be 1
            "$($warned[0])" | Should -BeLike "*refused a device activity of 4 devices and took one of 2*Set-AdeBusinessAccount -ClientId '$($sa.ClientId)' -DevicePerActivity*"
            (Get-AdeBusinessAccount -ClientId $sa.ClientId).DevicesPerActivity | Should -Be 2

            # set by hand: 3 is within Apple's cap; -PassThru shows the account; 0 is the default again
            $set = Get-AdeBusinessAccount -ClientId $sa.ClientId | Set-AdeBusinessAccount -DevicePerActivity 3 -PostPerHour 20 -PassThru
            ($set.DevicesPerActivity, $set.PostsPerHour) | Should -Be @(3, 20)
            ($serials[6..8] | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $t.Token.Name).DeviceCount | Should -Be 3
            Set-AdeBusinessAccount -ClientId $sa.ClientId -DevicePerActivity 0 -PostPerHour 0 | Should -BeNullOrEmpty
            $reset = Get-AdeBusinessAccount -ClientId $sa.ClientId
            ($null -eq $reset.DevicesPerActivity -and $null -eq $reset.PostsPerHour) | Should -BeTrue

            { Set-AdeBusinessAccount -ClientId $sa.ClientId -DevicePerActivity 1001 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeBusinessAccountCommand'
            { Set-AdeBusinessAccount -ClientId $sa.ClientId -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeBusinessAccountCommand'
            { Set-AdeBusinessAccount -ClientId 'BUSINESSAPI.nobody*' -PostPerHour 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'BusinessAccountNotFound,AdeEnrollment.Commands.SetAdeBusinessAccountCommand'
            Set-AdeBusinessAccount -ClientId $sa.ClientId -PostPerHour 5 -WhatIf
            $null -eq (Get-AdeBusinessAccount -ClientId $sa.ClientId).PostsPerHour | Should -BeTrue

            # a pattern sets every account it matches
            $second = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive 'cap2.pem')
            New-AdeBusinessAccount -ClientId $second.ClientId -KeyId $second.KeyId -KeyPath $second.KeyPath -TokenUri $second.TokenUri -ServiceUri $second.ServiceUri | Out-Null
            @(Set-AdeBusinessAccount -ClientId 'BUSINESSAPI.*' -GetPerMinute 30 -PassThru).Count | Should -Be 2
            @(Get-AdeBusinessAccount | Where-Object GetsPerMinute -eq 30).Count | Should -Be 2
        }
        finally {
            Set-AdeSimBusinessApi -MaxDevicesPerActivity 0 -ActivityCapAnswer Entity422
        }
    }

    It 'a batch Apple carries out but answers without data stops the command, saying not to send its devices again (Set-AdeSimFault -Skip)' {
        # an organisation of its own: its 1,001 devices stay out of the other tests' inventory listings
        $org = "Unread $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive "$org.pem") | Out-Null
        New-AdeSimServer -Name $org -PublicKeyPath (Join-Path $TestDrive "$org.pem") -OutFile (Join-Path $TestDrive "$org.p7m") -OrgName $org | Out-Null
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "$org-api.pem") -OrgName $org
        New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri | Out-Null
        $serials = @((Add-AdeSimOrgDevice -Count 1001 -OrgName $org).SerialNumber)
        $fault = Set-AdeSimFault -Endpoint '/v1/orgDeviceActivities' -Method POST -StatusCode 201 -Body '{}' -AfterApplying -Skip 1 -Count 1 -PassThru
        $fault.Skip | Should -Be 1
        $before = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $out = [System.Collections.Generic.List[object]]::new()
        $err = $null
        try {
            $serials | Set-AdeOrgDeviceServer -Account $sa.ClientId -MdmServer $org -ErrorAction Stop | ForEach-Object { $out.Add($_) }
        }
        catch {
            $err = $_
        }

        $err.FullyQualifiedErrorId | Should -Be 'BusinessResponseInvalid,AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $out.Count | Should -Be 1
        $out[0].DeviceCount | Should -Be 1000
        $err.Exception.Message | Should -BeLike "*Apple created the activity, but without its id it was not stored: do not send these devices again*"
        $err.Exception.Message | Should -BeLike "*the next 1 device ($($serials[1000])) was in the request Apple accepted*no other device was left to send.*"
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST' | Select-Object -Skip $before).StatusCode | Should -Be @(201, 201)
        (Get-AdeSimOrgDevice -SerialNumber $serials[1000]).AssignedServer | Should -Be $org
    }

    It 'New-AdeMdmServer makes a server for a token request whose portal token New-AdeToken reads; Set-AdeMdmServer makes it the default of new iPads' {
        New-TestAccount | Out-Null
        $name = "Lab $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $request = New-AdeTokenRequest -AcceptDataSharing
        New-AdeMdmServer -Name $name -Request $request -WhatIf | Should -BeNullOrEmpty
        Get-AdeMdmServer -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $server = $request | New-AdeMdmServer -Name $name
        $server | Should -BeOfType (Get-AdeModuleType AdeEnrollment.Engine.Business.AdeMdmServer)
        $server.Name | Should -Be $name
        $server.DeviceCount | Should -Be 0
        $server.AllowRelease | Should -BeFalse
        $err = { New-AdeMdmServer -Name $name.ToUpperInvariant() -Request (New-AdeTokenRequest -AcceptDataSharing) -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerExists,AdeEnrollment.Commands.NewAdeMdmServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'

        # the portal's "Download Token", then the module's token from the same request
        $p7m = Join-Path $TestDrive "$name.p7m"
        Export-AdeSimServerToken -Server $name -OutFile $p7m | Out-Null
        $token = New-AdeToken -Request $request -Path $p7m -AppleId 'ade.admin@contoso.example' -Name $name -ServiceUri $sim.Uri
        $token.ServerName | Should -Be $name
        (Get-AdeMdmServer -Name $name).Token | Should -Be $name

        # new iPads of the organisation now land on it, and arrive with its next sync
        Get-AdeMdmServer -Name $name | Set-AdeMdmServer -DefaultProductFamily iPad
        (Get-AdeMdmServer -Name $name).DefaultProductFamilies | Should -Be @('IPAD')
        $ipad = Add-AdeSimOrgDevice -Count 1 -ProductFamily iPad
        (Sync-AdeDevice -Token $name).Added | Should -Be 1
        (Get-AdeDevice -Token $name).SerialNumber | Should -Be $ipad.SerialNumber
        $renamed = Set-AdeMdmServer $name -NewName "$name (EU)" -AllowRelease $true -PassThru
        $renamed.Name | Should -Be "$name (EU)"
        $renamed.AllowRelease | Should -BeTrue
        $renamed.Token | Should -Be $name
        { Set-AdeMdmServer "$name (EU)" -DefaultProductFamily Toaster -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeMdmServerCommand'

        # an Apple that clears the list only with null (it takes an empty list and keeps the families): cleared all the same
        Set-AdeSimBusinessApi -ClearFamiliesWith Null
        try {
            $cleared = Set-AdeMdmServer "$name (EU)" -DefaultProductFamily @() -PassThru -WarningVariable w -WarningAction SilentlyContinue
            @($cleared.DefaultProductFamilies).Count | Should -Be 0
            @((Get-AdeMdmServer -Name "$name (EU)").DefaultProductFamilies).Count | Should -Be 0
            $w | Should -BeNullOrEmpty
        } finally {
            Set-AdeSimBusinessApi -ClearFamiliesWith Both
        }
    }

    It 'MDM server writes with an Apple School Manager account are refused before anything is sent' {
        $school = New-TestAccount -School
        $sent = @(Get-AdeSimRequest -Path '/school/v1/mdmServers*').Count
        $err = { New-AdeMdmServer -Name 'Lab' -Request (New-AdeTokenRequest -AcceptDataSharing) -Account $school.Sim.ClientId -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -Match 'Apple School Manager'
        { Remove-AdeMdmServer -MdmServer 'Lab' -Account $school.Sim.ClientId -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.RemoveAdeMdmServerCommand'
        @(Get-AdeSimRequest -Path '/school/v1/mdmServers*').Count | Should -Be $sent
    }

    It 'Remove-AdeMdmServer deletes a server only once it has no devices and no stored token, and asks first' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Kept $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $err = { Remove-AdeMdmServer -MdmServer $t.Token.Name -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerHasToken,AdeEnrollment.Commands.RemoveAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*Remove-AdeToken -Token '$($t.Token.Name)'*"

        $name = "Empty $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeMdmServer -Name $name -Request (New-AdeTokenRequest -AcceptDataSharing) | Out-Null
        $d = Add-AdeSimOrgDevice -Count 1
        $d | Set-AdeOrgDeviceServer -MdmServer $name -Wait | Out-Null
        $writes = @(Get-AdeSimRequest -Path '/v1/mdmServers/*' | Where-Object Method -eq 'DELETE').Count
        $err = { Remove-AdeMdmServer -MdmServer $name -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessServerHasDevices,AdeEnrollment.Commands.RemoveAdeMdmServerCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -BeLike "*Clear-AdeOrgDeviceServer -MdmServer '$name'*"
        @(Get-AdeSimRequest -Path '/v1/mdmServers/*' | Where-Object Method -eq 'DELETE').Count | Should -Be $writes

        $d | Clear-AdeOrgDeviceServer -MdmServer $name -Wait | Out-Null
        Remove-AdeMdmServer -MdmServer $name -WhatIf
        (Get-AdeMdmServer -Name $name).Name | Should -Be $name
        $name | Remove-AdeMdmServer -Confirm:$false # a piped string is a name, as for every other Remove-Ade* cmdlet
        Get-AdeMdmServer -Name $name -ErrorAction SilentlyContinue -ErrorVariable gone | Where-Object Status -ne 'DELETED' | Should -BeNullOrEmpty
        @(Get-AdeSimRequest -Path '/v1/mdmServers/*' | Where-Object Method -eq 'DELETE').Count | Should -Be ($writes + 1)
    }

    It 'a 429 whose Retry-After is an HTTP date is timed on the engine clock that Set-AdeSimClock moved, not the computer''s' {
        $a = New-TestAccount
        Set-AdeSimBusinessApi -RetryAfterAsDate $true
        try {
            Set-AdeSimClock -Advance (New-TimeSpan -Days 3650)
            Get-AdeMdmServer -Account $a.Account.ClientId | Out-Null
            Set-AdeSimBusinessApi -GetPerMinute 1
            Set-AdeSimClock -Advance (New-TimeSpan -Seconds 61)
            Get-AdeMdmServer -Account $a.Account.ClientId | Out-Null
            $now = Set-AdeSimClock -Advance (New-TimeSpan -Seconds 50) -PassThru
            $err = { Get-AdeMdmServer -Account $a.Account.ClientId -ErrorAction Stop } |
                Should -Throw -ErrorId 'BusinessThrottled,AdeEnrollment.Commands.GetAdeMdmServerCommand' -PassThru
            # Apple (the simulator) asked for 10 s by its clock, which runs on from $now: the error names a time 10 s
            # on (the computer's clock, ten years behind, would make it ten years)
            $err.Exception.Message -match 'allowed at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)Z' | Should -BeTrue
            $at = [datetime]::ParseExact($Matches[1], 'yyyy-MM-dd HH:mm:ss', [cultureinfo]::InvariantCulture, 'AssumeUniversal, AdjustToUniversal')
            ($at - $now.UtcDateTime).TotalSeconds | Should -BeGreaterOrEqual 9
            ($at - $now.UtcDateTime).TotalMinutes | Should -BeLessThan 10
            Set-AdeSimClock -Advance (New-TimeSpan -Seconds 11)
            { Get-AdeMdmServer -Account $a.Account.ClientId -ErrorAction Stop } | Should -Not -Throw
        } finally {
            Set-AdeSimBusinessApi -RetryAfterAsDate $false
        }
    }

    It 'copes with shuffled pages, a paging total and devices in an MDM migration (simulator switches)' {
        New-TestAccount -GetPerMinute 200 | Out-Null # the listing reads every server of the organisation, which earlier tests added to
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 3
        $own = (Add-AdeSimOrgDevice -Count 4)[0].OrgName # the account's organisation (other tests add organisations of their own)
        Set-AdeSimBusinessApi -ShuffledOrder $true -PagingTotal $true -MigrationActivities $true
        try {
            $all = @(Get-AdeOrgDevice)
            $all.Count | Should -Be @(Get-AdeSimOrgDevice | Where-Object OrgName -eq $own).Count
            @($all | Where-Object MdmServer -eq $t.Token.Name).Count | Should -Be 3
        } finally {
            Set-AdeSimBusinessApi -ShuffledOrder $false -PagingTotal $false
        }
    }

    It 'tolerates Apple''s open variants: unrelated server ids, 404 for unassigned, next links without limit, faults on GET' {
        New-TestAccount -GetPerMinute 600 | Out-Null
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 1
        $own = (Add-AdeSimOrgDevice -Count 3)[0].OrgName
        Set-AdeSimBusinessApi -UnrelatedServerIds $true -UnassignedServerAsNotFound $true -NextLinkWithoutLimit $true
        try {
            $s = Get-AdeMdmServer -Name $t.Token.Name
            $s.Token | Should -Be $t.Token.Name
            $s.IdMatchesToken | Should -BeFalse
            $u = (Get-AdeOrgDevice -Status Unassigned)[0]
            (Get-AdeOrgDevice -SerialNumber $u.SerialNumber).MdmServer | Should -BeNullOrEmpty
            $expected = @(Get-AdeSimOrgDevice | Where-Object OrgName -eq $own).Count
            Set-AdeSimFault -Endpoint '/v1/orgDevices' -StatusCode 503 -Count 1
            @(Get-AdeOrgDevice).Count | Should -Be $expected
            @(Get-AdeSimRequest -Path '/v1/orgDevices' | Where-Object StatusCode -eq 503).Count | Should -Be 1
        } finally {
            Set-AdeSimBusinessApi -UnrelatedServerIds $false -UnassignedServerAsNotFound $false -NextLinkWithoutLimit $false
        }
    }
    It 'two organisations in one simulator: each API account sees only its own devices and servers' {
        $contoso = New-TestAccount -GetPerMinute 200 # reads the inventory of the shared organisation twice
        $t = New-SimToken -Name "Biz $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $name = "Fabrikam $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive "$name.pem") | Out-Null
        New-AdeSimServer -Name $name -PublicKeyPath (Join-Path $TestDrive "$name.pem") -OutFile (Join-Path $TestDrive "$name.p7m") -OrgName $name | Out-Null
        $bought = Add-AdeSimOrgDevice -Count 2 -ProductFamily Mac -OrgName $name
        $bought | ForEach-Object { $_.OrgName | Should -Be $name }
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "$name-api.pem") -OrgName $name
        $sa.OrgName | Should -Be $name
        $fabrikam = New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri
        @(Get-AdeOrgDevice -Account $fabrikam.ClientId).SerialNumber | Sort-Object | Should -Be ($bought.SerialNumber | Sort-Object)
        @(Get-AdeMdmServer -Account $fabrikam.ClientId).Name | Should -Be @($name)
        (Get-AdeMdmServer -Account $contoso.Account.ClientId).Name | Should -Not -Contain $name
        (Get-AdeMdmServer -Account $contoso.Account.ClientId).Name | Should -Contain $t.Token.Name
        @(Get-AdeOrgDevice -Account $contoso.Account.ClientId).SerialNumber | Should -Not -Contain $bought[0].SerialNumber
        { Get-AdeOrgDevice -Account $contoso.Account.ClientId -SerialNumber $bought[0].SerialNumber -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessDeviceNotFound*'
    }

    It 'a 429 without Retry-After is a BusinessThrottled error that holds back for a minute (simulator switch -OmitRetryAfter)' {
        $a = New-TestAccount
        Set-AdeSimBusinessApi -OmitRetryAfter $true
        try {
            Get-AdeMdmServer -Account $a.Account.ClientId | Out-Null
            Set-AdeSimBusinessApi -GetPerMinute 1
            Set-AdeSimClock -Advance ([timespan]::FromSeconds(61))
            Get-AdeMdmServer -Account $a.Account.ClientId | Out-Null
            { Get-AdeMdmServer -Account $a.Account.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessThrottled*'
            $sent = @(Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object StatusCode -eq 429).Count
            $sent | Should -BeGreaterThan 0
            { Get-AdeMdmServer -Account $a.Account.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessThrottled*'
            @(Get-AdeSimRequest -Path '/v1/mdmServers' | Where-Object StatusCode -eq 429).Count | Should -Be $sent # held back locally
        } finally {
            Set-AdeSimBusinessApi -OmitRetryAfter $false
        }
    }

    It 'a paging cursor that expires mid-listing restarts the listing once (no device twice); expiring again is BusinessCursorExpired (simulator switch -CursorLifetime)' {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "key-cursor.pem")
        $a = [pscustomobject]@{ Account = New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri -GetPerMinute 1000 }
        Add-AdeSimOrgDevice -Count 2001 -ProductFamily iPhone | Out-Null
        $all = @(Get-AdeOrgDevice -Account $a.Account.ClientId).Count
        $all | Should -BeGreaterOrEqual 2001
        Set-AdeSimBusinessApi -CursorLifetime 30
        try {
            # the pipeline consumer is slow on the first device: the cursor of page 2 has expired when it is asked for
            $seen = @(Get-AdeOrgDevice -Account $a.Account.ClientId | ForEach-Object -Begin { $n = 0 } -Process {
                    $n++
                    if ($n -eq 1) { Set-AdeSimClock -Advance ([timespan]::FromSeconds(31)) }
                    $_.SerialNumber
                })
            $seen.Count | Should -Be $all
            @($seen | Sort-Object -Unique).Count | Should -Be $all
            @(Get-AdeSimRequest -Path '/v1/orgDevices' | Where-Object StatusCode -eq 400).Count | Should -Be 1

            # slow on page 1 and again on page 2 after the restart: the second expiry is an error that says what to do
            $again = [System.Collections.Generic.List[string]]::new()
            $err = { Get-AdeOrgDevice -Account $a.Account.ClientId | ForEach-Object -Begin { $n = 0 } -Process {
                    $n++
                    if ($n -in 1, 1001) { Set-AdeSimClock -Advance ([timespan]::FromSeconds(31)) }
                    $again.Add($_.SerialNumber)
                } } | Should -Throw -ErrorId 'BusinessCursorExpired*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err.Exception.Message | Should -Match 'Run the command again'
            $again.Count | Should -BeGreaterThan 1000
            @($again | Sort-Object -Unique).Count | Should -Be $again.Count
        } finally {
            Set-AdeSimBusinessApi -CursorLifetime 0
        }
    }

    It 'a sync that does not show yet the devices a completed assignment put on the token''s server warns and counts them; a later sync brings them (simulator switch -DepVisibilityDelay)' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Lag $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Sync-AdeDevice -Token $t.Token | Out-Null
        $bought = Add-AdeSimOrgDevice -Count 2 -OrderNumber 'PO-LAG' -ProductFamily iPad
        Set-AdeSimBusinessApi -DepVisibilityDelay 3600
        try {
            $activity = $bought.SerialNumber | Set-AdeOrgDeviceServer -Token $t.Token -Wait
            $activity.Succeeded | Should -Be 2
            Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
            $sync = Sync-AdeDevice -Token $t.Token -WarningVariable w -WarningAction SilentlyContinue
            $sync.Added | Should -Be 0
            $sync.PendingFromActivities | Should -Be 2
            ($w -join ' ') | Should -Match ([regex]::Escape($activity.Id))
            ($w -join ' ') | Should -Match 'A later Sync-AdeDevice brings them'
            Set-AdeSimClock -Advance (New-TimeSpan -Minutes 61)
            $later = Sync-AdeDevice -Token $t.Token -WarningVariable w2
            $later.Added | Should -Be 2
            $later.PendingFromActivities | Should -Be 0
            $w2 | Should -BeNullOrEmpty
        } finally {
            Set-AdeSimBusinessApi -DepVisibilityDelay 0
        }
    }

    It 'a School account works on the School host; stored with the Business host it is BusinessClientRejected by a strict Apple, without secrets (simulator switch -StrictApiHosts)' {
        $school = New-TestAccount -School
        $school.Account.ServiceUri.AbsolutePath | Should -Be '/school/v1/'
        @(Get-AdeMdmServer -Account $school.Account.ClientId).Count | Should -BeGreaterThan 0
        Remove-AdeBusinessAccount -ClientId $school.Account.ClientId -Confirm:$false
        $business = New-TestAccount
        $wrong = New-AdeBusinessAccount -ClientId $school.Sim.ClientId -KeyId $school.Sim.KeyId -KeyPath $school.Sim.KeyPath -TokenUri $school.Sim.TokenUri -ServiceUri $business.Sim.ServiceUri
        $err = { Get-AdeMdmServer -Account $wrong.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessClientRejected*' -PassThru
        $err.Exception.Message | Should -Match 'api-school\.apple\.com'
        $err.Exception.Message | Should -Not -Match 'sim-at-|PRIVATE KEY'
        Set-AdeSimBusinessApi -StrictApiHosts $false
        try {
            @(Get-AdeMdmServer -Account $wrong.ClientId).Count | Should -BeGreaterThan 0
        } finally {
            Set-AdeSimBusinessApi -StrictApiHosts $true
        }
        { New-AdeBusinessAccount -ClientId "SCHOOLAPI.$([guid]::NewGuid())" -KeyId ([guid]::NewGuid()) -KeyPath $school.Sim.KeyPath -ServiceUri 'https://api-business.apple.com/v1/' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid*'
    }

    It 'a revoked key is BusinessClientRejected whether Apple answers invalid_client for everything or RFC codes (simulator switch -OAuthErrorCodes)' {
        foreach ($codes in 'Apple', 'Rfc') {
            Set-AdeSimBusinessApi -OAuthErrorCodes $codes
            try {
                $a = New-TestAccount
                Set-AdeSimBusinessApi -RevokeKey -ClientId $a.Sim.ClientId
                $err = { Get-AdeMdmServer -Account $a.Account.ClientId -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessClientRejected*' -PassThru
                $err.Exception.Message | Should -BeLike $(if ($codes -eq 'Rfc') { "*(invalid_client: The client assertion was refused: revoked.)*" } else { "*(invalid_client).*" })
                $refusal = @(Get-AdeSimRequest -Path '/auth/oauth2/token')[-1]
                $refusal.StatusCode | Should -Be $(if ($codes -eq 'Rfc') { 401 } else { 400 })
            } finally {
                Set-AdeSimBusinessApi -OAuthErrorCodes Apple
            }
        }
    }

    It 'unassigning from a server the devices are not on warns first and reports each device, failed or silently unassigned (simulator switch -SilentUnassignElsewhere)' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Else $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Sync-AdeDevice -Token $t.Token | Out-Null
        $bought = Add-AdeSimOrgDevice -Count 1 -ProductFamily iPad
        foreach ($silent in $false, $true) {
            Set-AdeSimBusinessApi -SilentUnassignElsewhere $silent
            try {
                $r = $bought.SerialNumber | Clear-AdeOrgDeviceServer -Token $t.Token -Wait -WarningVariable w -WarningAction SilentlyContinue
                ($w -join ' ') | Should -Match "not on MDM server '$([regex]::Escape($t.Token.Name))'"
                $r.Devices.Count | Should -Be 1
                $r.Devices[0].Status | Should -Be $(if ($silent) { 'SUCCESS' } else { 'FAILED' })
            } finally {
                Set-AdeSimBusinessApi -SilentUnassignElsewhere $false
            }
        }
    }
}
