# Apple Business API behaviour that is uncertain, through the cmdlets against the simulator: for each variant the
# simulator can be switched to (Set-AdeSimBusinessApi, New-AdeSimBusinessAccount -KeyFormat), the cmdlets read as usual.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 5353

    function New-TestAccount([string] $KeyFormat = 'Sec1') {
        $sa = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "key-$([guid]::NewGuid().ToString('N')).pem") -KeyFormat $KeyFormat
        $account = New-AdeBusinessAccount -ClientId $sa.ClientId -KeyId $sa.KeyId -KeyPath $sa.KeyPath -TokenUri $sa.TokenUri -ServiceUri $sa.ServiceUri
        [pscustomobject]@{ Sim = $sa; Account = $account }
    }

    # a raw request with the account's own access token (client assertion signed here with plain .NET, independently
    # of the engine): what the simulator really sends, so a test sees the variant it switched on
    function Invoke-SimApi($SimAccount, [string] $RelativeUri) {
        function B64Url([byte[]] $b) { [Convert]::ToBase64String($b).TrimEnd('=').Replace('+', '-').Replace('/', '_') }
        $key = [System.Security.Cryptography.ECDsa]::Create()
        $key.ImportFromPem((Get-Content -Raw $SimAccount.KeyPath))
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() - 60
        $header = @{ alg = 'ES256'; kid = $SimAccount.KeyId; typ = 'JWT' } | ConvertTo-Json -Compress
        $claims = @{ iss = $SimAccount.ClientId; sub = $SimAccount.ClientId; aud = 'https://account.apple.com/auth/oauth2/v2/token'; iat = $now; exp = $now + 600; jti = [guid]::NewGuid().ToString() } | ConvertTo-Json -Compress
        $signingInput = (B64Url ([Text.Encoding]::UTF8.GetBytes($header))) + '.' + (B64Url ([Text.Encoding]::UTF8.GetBytes($claims)))
        $signature = $key.SignData([Text.Encoding]::ASCII.GetBytes($signingInput), [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.DSASignatureFormat]::IeeeP1363FixedFieldConcatenation)
        $token = Invoke-RestMethod -Method Post -Uri $SimAccount.TokenUri -Body @{
            grant_type = 'client_credentials'; client_id = $SimAccount.ClientId; scope = $SimAccount.Scope
            client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'; client_assertion = $signingInput + '.' + (B64Url $signature)
        }
        $r = Invoke-WebRequest -Uri ([uri]::new($SimAccount.ServiceUri, $RelativeUri)) -Headers @{ Authorization = "Bearer $($token.access_token)" } -SkipHttpErrorCheck
        [pscustomobject]@{ Status = [int] $r.StatusCode; Body = $r.Content | ConvertFrom-Json }
    }

    # the answers of one path since a point in the request log
    function Get-Answers([string] $Path, [int] $Skip) { @(Get-AdeSimRequest -Path $Path | Select-Object -Skip $Skip) }
}

AfterAll {
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Apple Business API variants' {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        Set-AdeSimBusinessApi -Reset -ActivityDuration ([timespan]::Zero)
        Connect-AdeStore -Path (Join-Path $TestDrive "quirk-$([guid]::NewGuid().ToString('N')).db")
    }

    It 'Set-AdeSimBusinessApi -Reset puts every switch back to its default before applying the others given' {
        $a = New-TestAccount
        $d = Add-AdeSimOrgDevice -Count 3
        Set-AdeSimBusinessApi -PurchaseSourceUid $true -LimitOutOfRange Reject -MaxLimit 2 -UnknownQueryParameter Ignore -GetPerMinute 100
        (Invoke-SimApi $a.Sim 'orgDevices?limit=1000').Status | Should -Be 400
        (Invoke-SimApi $a.Sim 'orgDevices?limit=2&filter[serialNumber]=X').Status | Should -Be 200
        (Invoke-SimApi $a.Sim "orgDevices/$($d[0].SerialNumber)").Body.data.attributes.PSObject.Properties.Name | Should -Contain 'purchaseSourceUid'

        Set-AdeSimBusinessApi -Reset -MaxLimit 500
        $raw = Invoke-SimApi $a.Sim 'orgDevices?limit=500&filter[serialNumber]=X'
        $raw.Status | Should -Be 400 # unknown query parameters refused again (the default)
        (Invoke-SimApi $a.Sim 'orgDevices?limit=501').Status | Should -Be 400 # -MaxLimit given with -Reset still applies
        $attributes = (Invoke-SimApi $a.Sim "orgDevices/$($d[0].SerialNumber)").Body.data.attributes.PSObject.Properties.Name
        $attributes | Should -Contain 'purchaseSourceId'
        $attributes | Should -Not -Contain 'purchaseSourceUid'
    }

    It 'devices keep their purchase source when Apple sends it under the misspelled purchaseSourceUid' {
        $a = New-TestAccount
        Set-AdeSimBusinessApi -PurchaseSourceUid $true
        $d = Add-AdeSimOrgDevice -Count 2
        $d.PurchaseSourceId | Should -Not -BeNullOrEmpty
        $raw = Invoke-SimApi $a.Sim "orgDevices/$($d[0].SerialNumber)"
        $raw.Body.data.attributes.purchaseSourceUid | Should -Be $d[0].PurchaseSourceId
        $raw.Body.data.attributes.PSObject.Properties.Name | Should -Not -Contain 'purchaseSourceId'
        $one = Get-AdeOrgDevice -SerialNumber $d[0].SerialNumber
        $one.PurchaseSourceId | Should -Be $d[0].PurchaseSourceId
        $one.PurchaseSourceType | Should -Be $d[0].PurchaseSourceType
        $listed = @(Get-AdeOrgDevice) | Where-Object SerialNumber -eq $d[1].SerialNumber
        $listed.PurchaseSourceId | Should -Be $d[1].PurchaseSourceId
    }

    It 'every device is read whether Apple refuses (400, source.parameter limit) or clamps a limit above its maximum' -ForEach @(
        @{ Mode = 'Reject' }, @{ Mode = 'Clamp' }
    ) {
        $a = New-TestAccount
        $d = Add-AdeSimOrgDevice -Count 5
        Set-AdeSimBusinessApi -LimitOutOfRange $Mode -MaxLimit 2
        $raw = Invoke-SimApi $a.Sim 'orgDevices?limit=1000'
        if ($Mode -eq 'Reject') {
            $raw.Status | Should -Be 400
            $raw.Body.errors[0].source.parameter | Should -Be 'limit'
        } else {
            $raw.Status | Should -Be 200
            @($raw.Body.data).Count | Should -Be 2
        }

        $skip = @(Get-AdeSimRequest -Path '/v1/orgDevices').Count
        $read = @(Get-AdeOrgDevice).SerialNumber
        foreach ($s in $d.SerialNumber) { $read | Should -Contain $s }
        $answers = Get-Answers '/v1/orgDevices' $skip
        # the variant was sent: the client's limit of 1000 refused once, or every page clamped to 2
        @($answers | Where-Object StatusCode -eq 400).Count | Should -Be ($Mode -eq 'Reject' ? 1 : 0)
        @($answers | Where-Object StatusCode -eq 400).ErrorCode | Should -Be ($Mode -eq 'Reject' ? 'PARAMETER_ERROR.INVALID' : $null)
        @($answers | Where-Object StatusCode -eq 200).Count | Should -BeGreaterOrEqual 3
        @($answers | Where-Object StatusCode -eq 200 | Where-Object DeviceCount -gt 2).Count | Should -Be 0
    }

    It 'Get-AdeOrgDevice -SerialNumber gets exactly the devices asked for whether Apple ignores or refuses undocumented query parameters' -ForEach @(
        @{ Mode = 'Ignore' }, @{ Mode = 'Reject' }
    ) {
        $a = New-TestAccount
        Set-AdeSimBusinessApi -UnknownQueryParameter $Mode
        $d = Add-AdeSimOrgDevice -Count 4
        $raw = Invoke-SimApi $a.Sim "orgDevices?filter[serialNumber]=$($d[0].SerialNumber)"
        $raw.Status | Should -Be ($Mode -eq 'Reject' ? 400 : 200)
        if ($Mode -eq 'Reject') { $raw.Body.errors[0].source.parameter | Should -Be 'filter[serialNumber]' }
        $skip = @(Get-AdeSimRequest -Path '/v1/*').Count
        $wanted = @($d[0].SerialNumber, $d[2].SerialNumber, $d[3].SerialNumber)
        (@(Get-AdeOrgDevice -SerialNumber $wanted).SerialNumber | Sort-Object) | Should -Be ($wanted | Sort-Object)
        @(Get-AdeOrgDevice -SerialNumber ($d[1].SerialNumber.Substring(0, $d[1].SerialNumber.Length - 1) + '*')).SerialNumber | Should -Contain $d[1].SerialNumber
        # no request of the client was refused: it sends only documented parameters
        @(Get-Answers '/v1/*' $skip | Where-Object StatusCode -ge 400).Count | Should -Be 0
    }

    It 'Get-AdeMdmServer by name and -MdmServer filters work when Apple refuses GET /v1/mdmServers/{id} with 403' {
        $a = New-TestAccount
        $t = New-SimToken -Name "Quirk $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Set-AdeSimBusinessApi -ForbidServerRead $true
        $s = Get-AdeMdmServer -Name $t.Token.Name
        $s.Name | Should -Be $t.Token.Name
        $s.Token | Should -Be $t.Token.Name
        (Invoke-SimApi $a.Sim "mdmServers/$($s.Id)").Status | Should -Be 403
        $reads = @(Get-AdeSimRequest -Path "/v1/mdmServers/$($s.Id)").Count
        (Get-AdeMdmServer -Name $s.Id).Name | Should -Be $t.Token.Name
        $d = Add-AdeSimOrgDevice -Count 1
        ($d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait).Status | Should -Be 'COMPLETED'
        (Get-AdeOrgDevice -MdmServer $t.Token.Name).SerialNumber | Should -Contain $d.SerialNumber
        # the cmdlets never read a single server
        @(Get-AdeSimRequest -Path "/v1/mdmServers/$($s.Id)").Count | Should -Be $reads
    }

    It 'New-AdeBusinessAccount takes a key whose PEM label does not match its content (<Format>)' -ForEach @(
        @{ Format = 'Pkcs8AsSec1'; Label = 'EC PRIVATE KEY'; Pkcs8 = $true }, @{ Format = 'Sec1AsPkcs8'; Label = 'PRIVATE KEY'; Pkcs8 = $false }
    ) {
        $a = New-TestAccount -KeyFormat $Format
        $pem = Get-Content -Raw $a.Sim.KeyPath
        # the variant was written: the label says one format, the content is the other
        $pem | Should -Match "^-----BEGIN $Label-----"
        $body = [Convert]::FromBase64String((($pem -split "`n") | Where-Object { $_ -and $_ -notmatch '^-----' }) -join '')
        $key = [System.Security.Cryptography.ECDsa]::Create()
        $read = 0
        if ($Pkcs8) { $key.ImportPkcs8PrivateKey($body, [ref] $read) } else { $key.ImportECPrivateKey($body, [ref] $read) }
        $read | Should -Be $body.Length
        $a.Account.ClientId | Should -Be $a.Sim.ClientId
        # the key signs: Apple issues a token and the inventory is read
        Add-AdeSimOrgDevice -Count 1 | Out-Null
        @(Get-AdeMdmServer).Count | Should -BeGreaterThan 0
        @(Get-AdeOrgDevice).Count | Should -BeGreaterThan 0
    }

    It 'New-AdeBusinessAccount takes a key written with an EC PARAMETERS block in front, as openssl ecparam -genkey writes it' {
        $a = New-TestAccount -KeyFormat Sec1WithParameters
        $pem = Get-Content -Raw $a.Sim.KeyPath
        $pem | Should -Match '^-----BEGIN EC PARAMETERS-----'
        $pem | Should -Match '-----BEGIN EC PRIVATE KEY-----'
        $a.Account.ClientId | Should -Be $a.Sim.ClientId
        $tokens = @(Get-AdeSimRequest -Path '/auth/oauth2/*' | Where-Object StatusCode -eq 200).Count
        { Get-AdeMdmServer -Account $a.Sim.ClientId -ErrorAction Stop } | Should -Not -Throw
        @(Get-AdeSimRequest -Path '/auth/oauth2/*' | Where-Object StatusCode -eq 200).Count | Should -Be ($tokens + 1) -Because 'the key signed an assertion Apple took'
    }

    It '-Wait reads the activity log in the <Shape> layout with <Words> as status words, and downloads it again from a fresh link after a <Fault>' -ForEach @(
        @{ Shape = 'Quoted'; Words = @('Succeeded', 'Error'); Fault = 503 }
        @{ Shape = 'TitleCase'; Words = @('SUCCESS', 'FAILED'); Fault = 403 }
        @{ Shape = 'NoPreamble'; Words = @('successful', 'FAILURE'); Fault = 503 }
    ) {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Log $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 3
        ($d[0] | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait).Status | Should -Be 'COMPLETED'
        Set-AdeSimBusinessApi -ActivityLogShape $Shape -ActivityLogStatus $Words
        Set-AdeSimFault -Endpoint '/abm-logs/*' -StatusCode $Fault -Count 1 | Out-Null
        $logs = @(Get-AdeSimRequest -Path '/abm-logs/*').Count

        $a = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        ($a.Succeeded, $a.Failed, $a.Unknown) | Should -Be @(2, 1, 0)
        ($a.Devices | Where-Object Status -ne 'SUCCESS' | ForEach-Object { $_.SerialNumber, $_.Status, $_.Detail }) | Should -Be @($d[0].SerialNumber, $Words[1].ToUpperInvariant(), 'ALREADY_ASSIGNED')
        (Get-Answers '/abm-logs/*' $logs).StatusCode | Should -Be @($Fault, 200)
        "$w" | Should -Not -Match 'could not be read'
    }

    It 'an activity log that cannot be downloaded leaves the outcome unknown with a warning, and -Refresh reads it later' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Log $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 2
        Set-AdeSimFault -Endpoint '/abm-logs/*' -StatusCode 503 -Count 2 | Out-Null
        $a = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        ($a.Status, $a.Succeeded, $a.Unknown) | Should -Be @('COMPLETED', 0, 2)
        @($w | Where-Object { "$_" -match $a.Id }).Count | Should -Be 1
        "$w" | Should -Match "its log could not be read \(its download answered HTTP 503, twice\).*Get-AdeOrgDeviceActivity -Id $($a.Id) -Refresh reads the log again"
        $later = Get-AdeOrgDeviceActivity -Id $a.Id -Refresh
        ($later.Succeeded, $later.Unknown) | Should -Be @(2, 0)
    }

    It 'Add-AdeSimOrgDevice -MdmServer puts bought devices on a server without an activity' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Bought $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $d = Add-AdeSimOrgDevice -Count 2 -OrderNumber 'PO-ON-SERVER' -MdmServer $t.Token.Name
        @($d.AssignedServer | Sort-Object -Unique) | Should -Be @($t.Token.Name)
        @(Get-AdeOrgDevice -OrderNumber 'PO-ON-SERVER' -MdmServer $t.Token.Name).Count | Should -Be 2
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be $posts # no activity
        { Add-AdeSimOrgDevice -MdmServer 'Nowhere' -ErrorAction Stop } | Should -Throw -ErrorId 'ServerNotFound,AdeEnrollment.Simulator.Commands.AddAdeSimOrgDeviceCommand'
    }

    It 'a device the simulator is told to fail (-FailSerialNumber) is FAILED with its reason; -Reset fails none again' {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Fail $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 3
        Set-AdeSimBusinessApi -FailSerialNumber $d[2].SerialNumber -FailReason 'DEVICE_LOCKED'
        $a = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        ($a.Succeeded, $a.Failed) | Should -Be @(2, 1)
        ($a.Devices | Where-Object Status -eq 'FAILED').SerialNumber | Should -Be $d[2].SerialNumber
        ($a.Devices | Where-Object Status -eq 'FAILED').Detail | Should -Be 'DEVICE_LOCKED'
        "$w" | Should -Match 'DEVICE_LOCKED'
        (Get-AdeSimOrgDevice | Where-Object SerialNumber -eq $d[2].SerialNumber).AssignedServer | Should -BeNullOrEmpty
        { Set-AdeSimBusinessApi -Reset -FailReason 'X' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Simulator.Commands.SetAdeSimBusinessApiCommand'
        $still = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningAction SilentlyContinue # the refusal changed nothing: still failing
        ($still.Devices | Where-Object Status -eq 'FAILED').Detail | Should -Contain 'DEVICE_LOCKED'
        Set-AdeSimBusinessApi -Reset -ActivityDuration ([timespan]::Zero)
        ($d[2] | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait).Succeeded | Should -Be 1
    }

    It 'a device the account released shows as Released in the inventory listing, whose release date Apple leaves null' {
        $a = New-TestAccount
        Set-AdeBusinessAccount -ClientId $a.Sim.ClientId -GetPerMinute 200 # the listings read every server's devices: more than Apple's 20 a minute
        Set-AdeSimBusinessApi -ListReleasedDevices $true
        $d = Add-AdeSimOrgDevice -Count 2
        $released = $d[0] | Remove-AdeOrgDevice -Confirm:$false -Wait
        $raw = (Invoke-SimApi $a.Sim 'orgDevices?limit=100').Body.data | Where-Object id -eq $d[0].SerialNumber
        $raw.attributes.releasedFromOrgDateTime | Should -BeNullOrEmpty # Apple's documented listing: no date
        (Invoke-SimApi $a.Sim "orgDevices/$($d[0].SerialNumber)").Body.data.attributes.releasedFromOrgDateTime | Should -Not -BeNullOrEmpty

        $listed = @(Get-AdeOrgDevice) | Where-Object SerialNumber -eq $d[0].SerialNumber
        ($listed.Status, $listed.ReleasedFromOrgDate) | Should -Be @('RELEASED', $released.CompletedAt)
        @(Get-AdeOrgDevice -Status Released).SerialNumber | Should -Be @($d[0].SerialNumber)
        (@(Get-AdeOrgDevice) | Where-Object SerialNumber -eq $d[1].SerialNumber).Status | Should -Be 'UNASSIGNED'
    }
    It 'an activity that walks through every sub-status Apple documents reads each step with -Refresh and ends as any other' {
        $account = New-TestAccount
        Set-AdeBusinessAccount -ClientId $account.Sim.ClientId -GetPerMinute 200 # more reads than Apple's 20 a minute
        $t = New-SimToken -Name "Steps $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 2
        # a quarter of 40 s per step; the simulator's clock also runs on in real time between the commands
        Set-AdeSimBusinessApi -ActivityDuration (New-TimeSpan -Seconds 40) -ActivityProgress Steps
        $a = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name
        $a.Status | Should -Be 'IN_PROGRESS'
        $a.SubStatus | Should -BeIn @('SUBMITTED', 'PRE_PROCESSING')
        $steps = foreach ($i in 1..4) {
            Set-AdeSimClock -Advance (New-TimeSpan -Seconds 9)
            (Get-AdeOrgDeviceActivity -Id $a.Id -Refresh).SubStatus
        }
        $steps | Should -Be @('PRE_PROCESSING', 'PENDING', 'PROCESSING', 'POST_PROCESSING')
        Set-AdeSimClock -Advance (New-TimeSpan -Seconds 5)
        $done = Get-AdeOrgDeviceActivity -Id $a.Id -Refresh
        ($done.Status, $done.SubStatus, $done.Succeeded) | Should -Be @('COMPLETED', 'COMPLETED_WITH_SUCCESS', 2)
    }

    It 'a <Outcome> activity paired with <Pairing> sub-status warns that its devices were not changed' -ForEach @(
        @{ Outcome = 'Failed'; Pairing = 'None'; Said = 'ended FAILED:' }
        @{ Outcome = 'Stopped'; Pairing = 'LastSeen'; Said = 'ended STOPPED \(PROCESSING\):' }
    ) {
        New-TestAccount | Out-Null
        $t = New-SimToken -Name "Ended $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = Add-AdeSimOrgDevice -Count 1
        Set-AdeSimBusinessApi -ActivityOutcome $Outcome -FailedSubStatus $Pairing
        $a = $d | Set-AdeOrgDeviceServer -MdmServer $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        $a.Status | Should -Be $Outcome.ToUpperInvariant()
        "$w" | Should -Match "$Said 1 of 1 devices were not changed"
        "$w" | Should -Not -Match '\(\)'
        @(Get-AdeSimDevice -Server $t.Token.Name).Count | Should -Be 0
    }

    It 'servers and devices read the same when Apple''s paging shows another limit than asked and servers carry device linkages' {
        $a = New-TestAccount
        $t = New-SimToken -Name "Linked $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 12
        Set-AdeSimBusinessApi -PagingLimitAsAsked $false -ServerDevicesLinkage $true
        $raw = Invoke-SimApi $a.Sim 'mdmServers?limit=1000'
        ($raw.Body.data | Where-Object { $_.attributes.serverName -eq $t.Token.Name }).relationships.devices.data.Count | Should -Be 10
        $raw.Body.meta.paging.limit | Should -Be 100

        $verbose = @(Get-AdeMdmServer -Name $t.Token.Name -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        "$verbose" | Should -Match 'Apple: GET /v1/mdmServers → 200 in \d+ ms \(GET \d+ of \d+ this minute for API account'
        (Get-AdeMdmServer -Name $t.Token.Name).DeviceCount | Should -Be 12
        @(Get-AdeOrgDevice -MdmServer $t.Token.Name).Count | Should -Be 12
    }

    It 'a server that a device is still arriving on is not deleted: Apple''s refusal (HTTP <Status>) stands with its own words' -ForEach @(
        @{ Status = 422 }
        @{ Status = 400 }
    ) {
        New-TestAccount | Out-Null
        $name = "Arriving $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeMdmServer -Name $name -Request (New-AdeTokenRequest -AcceptDataSharing) | Out-Null
        Set-AdeSimBusinessApi -ConflictStatus $Status -DepVisibilityDelay 3600
        # the activity completed; Apple counts the device on the server only once the move shows (an hour later)
        (Add-AdeSimOrgDevice -Count 1 | Set-AdeOrgDeviceServer -MdmServer $name -Wait).Status | Should -Be 'COMPLETED'
        (Get-AdeMdmServer -Name $name).DeviceCount | Should -Be 0
        $err = { Remove-AdeMdmServer -MdmServer $name -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BusinessRequestFailed,AdeEnrollment.Commands.RemoveAdeMdmServerCommand' -PassThru
        $err.Exception.Message | Should -Match "answered $Status"
        $err.Exception.Message | Should -Match 'has devices assigned to it'
        Get-AdeMdmServer -Name $name | Should -Not -BeNullOrEmpty
    }
    It 'an inventory page with an item without an id is BusinessResponseInvalid, not a blank device' {
        New-TestAccount | Out-Null
        Set-AdeSimFault -Endpoint '/v1/orgDevices*' -StatusCode 200 -Body '{"data":[{"type":"orgDevices","id":null}],"links":{"self":"x"},"meta":{"paging":{"limit":1000}}}' -Count 1 | Out-Null
        $err = { Get-AdeOrgDevice -ErrorAction Stop } | Should -Throw -ErrorId 'BusinessResponseInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand' -PassThru
        $err.Exception.Message | Should -Match 'an item without an id'
    }
    It 'a -ProductFamily near miss or wildcard, and a serial no device can have, are refused before anything is sent' {
        New-TestAccount | Out-Null
        $sent = @(Get-AdeSimRequest -Path '/v1/*').Count
        $err = { Get-AdeOrgDevice -ProductFamily Macs -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand' -PassThru
        $err.Exception.Message | Should -Match "'Mac' is probably meant"
        { Get-AdeOrgDevice -ProductFamily 'i*' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
        { Get-AdeOrgDevice -SerialNumber 'NOPE' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
        @(Get-AdeSimRequest -Path '/v1/*').Count | Should -Be $sent
        $mac = Add-AdeSimOrgDevice -Count 1 -ProductFamily Mac
        (Get-AdeOrgDevice -ProductFamily 'mac' | Where-Object SerialNumber -eq $mac.SerialNumber).ProductFamily | Should -Be 'Mac'
    }
    It 'devices piped from Get-AdeOrgDevice that are already on the target server are left out, and no activity is spent on them' {
        $account = New-TestAccount
        Set-AdeBusinessAccount -ClientId $account.Sim.ClientId -GetPerMinute 200 # more reads than Apple's 20 a minute
        $t = New-SimToken -Name "Already $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $d = @(Add-AdeSimOrgDevice -Count 3)
        ($d[0], $d[1] | Set-AdeOrgDeviceServer -Token $t.Token.Name -Wait).Status | Should -Be 'COMPLETED'
        $posts = @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count
        $read = @(Get-AdeOrgDevice -SerialNumber $d.SerialNumber)
        $a = $read | Set-AdeOrgDeviceServer -Token $t.Token.Name -Wait -WarningVariable w -WarningAction SilentlyContinue
        @($a.Devices.SerialNumber) | Should -Be @($d[2].SerialNumber)
        "$w" | Should -Match '2 devices already on MDM server'
        $line = "Get-AdeOrgDeviceActivity -Id $($a.Id.Substring(0, 4))" # Tab offers the stored activity, described
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Where-Object CompletionText -eq $a.Id
        $offered.ToolTip | Should -Match 'Assign 1 device\(s\) -> '
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be ($posts + 1)
        @(Get-AdeOrgDevice -SerialNumber $d.SerialNumber | Set-AdeOrgDeviceServer -Token $t.Token.Name -WarningAction SilentlyContinue).Count | Should -Be 0
        @(Get-AdeSimRequest -Path '/v1/orgDeviceActivities' | Where-Object Method -eq 'POST').Count | Should -Be ($posts + 1)
    }
    It 'Get-AdeMdmServer | Get-AdeOrgDevice lists the devices of each piped server' {
        $account = New-TestAccount
        Set-AdeBusinessAccount -ClientId $account.Sim.ClientId -GetPerMinute 200 # this test reads more than Apple's 20 a minute
        $a = New-SimToken -Name "PipeA $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        $b = New-SimToken -Name "PipeB $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 3
        @(Get-AdeMdmServer -Name $a.Token.Name | Get-AdeOrgDevice).Count | Should -Be 2
        $listings = @(Get-AdeSimRequest -Path '/v1/orgDevices' | Where-Object Method -eq 'GET').Count
        $both = @(Get-AdeMdmServer | Where-Object Name -in $a.Token.Name, $b.Token.Name | Get-AdeOrgDevice)
        $both.Count | Should -Be 5
        @(Get-AdeSimRequest -Path '/v1/orgDevices' | Where-Object Method -eq 'GET').Count | Should -Be ($listings + 1) # one read for both servers
        @($both.MdmServer | Sort-Object -Unique) | Should -Be @($a.Token.Name, $b.Token.Name)
        # -MdmServer still filters piped servers, one or several
        @(Get-AdeMdmServer -Name $a.Token.Name | Get-AdeOrgDevice -MdmServer $b.Token.Name).Count | Should -Be 0
        @(Get-AdeMdmServer | Where-Object Name -in $a.Token.Name, $b.Token.Name | Get-AdeOrgDevice -MdmServer $b.Token.Name).Count | Should -Be 3
    }
    It 'a piped server the account''s organisation does not have is an error of its own; the other piped servers are listed' {
        $account = New-TestAccount
        Set-AdeBusinessAccount -ClientId $account.Sim.ClientId -GetPerMinute 200
        $a = New-SimToken -Name "Here $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Devices 2
        $other = New-AdeSimBusinessAccount -KeyOutFile (Join-Path $TestDrive "other-$([guid]::NewGuid().ToString('N')).pem") -OrgName "Elsewhere $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-AdeBusinessAccount -ClientId $other.ClientId -KeyId $other.KeyId -KeyPath $other.KeyPath -TokenUri $other.TokenUri -ServiceUri $other.ServiceUri | Out-Null
        Set-AdeBusinessAccount -ClientId $other.ClientId -GetPerMinute 200
        $foreign = New-AdeMdmServer -Account $other.ClientId -Name "Theirs $([guid]::NewGuid().ToString('N').Substring(0, 6))" -Request (New-AdeTokenRequest -AcceptDataSharing)
        $devices = @(@(Get-AdeMdmServer -Account $account.Sim.ClientId -Name $a.Token.Name) + $foreign | Get-AdeOrgDevice -Account $account.Sim.ClientId -ErrorVariable missing -ErrorAction SilentlyContinue)
        $devices.Count | Should -Be 2
        $missing.Count | Should -Be 1
        $missing[0].FullyQualifiedErrorId | Should -Be 'BusinessServerNotFound,AdeEnrollment.Commands.GetAdeOrgDeviceCommand'
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missing[0].Exception.Message | Should -BeLike "*$($foreign.Id)*Get-AdeMdmServer*"
    }
}
