BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 99

    function Invoke-Sql([string] $Path, [string] $Sql) {
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Path;Pooling=False")
        try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
    }

    function Get-StoreState {
        $s = Get-AdeStore
        $pending = @(Get-AdeTokenRequest -Pending).Count
        "$($s.TokenCount)/$($s.TokenRequestCount)/$pending"
    }
}

AfterAll {
    Stop-AdeSimulator
}

Describe 'New-AdeTokenRequest' {
    BeforeEach { Connect-AdeStore -Path (Join-Path $TestDrive "req-$([guid]::NewGuid().ToString('N')).db") }

    It 'refuses without -AcceptDataSharing (ConsentRequired) and stores nothing' {
        $err = { New-AdeTokenRequest -OutFile (Join-Path $TestDrive 'x.pem') } | Should -Throw -ErrorId 'ConsentRequired,AdeEnrollment.Commands.NewAdeTokenRequestCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        (Get-AdeStore).TokenRequestCount | Should -Be 0
        Test-Path (Join-Path $TestDrive 'x.pem') | Should -BeFalse
    }

    It 'writes an RSA-2048 self-signed certificate PEM and returns a Pending request' {
        $pem = Join-Path $TestDrive 'upload.pem'
        $r = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        $r.Status | Should -Be 'Pending'
        $r.PublicKeyPem | Should -Match '^-----BEGIN CERTIFICATE-----'
        Get-Content -Raw $pem | Should -Be $r.PublicKeyPem
        $cert = [Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($r.PublicKeyPem)
        $cert.PublicKey.GetRSAPublicKey().KeySize | Should -Be 2048
        $cert.Thumbprint | Should -Be $r.Thumbprint
        $cert.HasPrivateKey | Should -BeFalse
        (Get-AdeTokenRequest -Id $r.Id).Status | Should -Be 'Pending'
    }

    It '-WhatIf creates nothing' {
        New-AdeTokenRequest -AcceptDataSharing -OutFile (Join-Path $TestDrive 'w.pem') -WhatIf | Should -BeNullOrEmpty
        (Get-AdeStore).TokenRequestCount | Should -Be 0
    }
}

Describe 'New-AdeToken' {
    BeforeEach {
        $script:db = Join-Path $TestDrive "tok-$([guid]::NewGuid().ToString('N')).db"
        Connect-AdeStore -Path $script:db
        $script:pem = Join-Path $TestDrive "up-$([guid]::NewGuid().ToString('N')).pem"
        $script:request = New-AdeTokenRequest -AcceptDataSharing -OutFile $script:pem
        # What ABM (the simulator) encrypts for this request's certificate; openssl makes the .p7m from it.
        $script:server = "Contoso iPads $([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:plain = Join-Path $TestDrive "plain-$([guid]::NewGuid().ToString('N')).txt"
        New-AdeSimServer -Name $script:server -PublicKeyPath $script:pem -OutFile (Join-Path $TestDrive 'abm.p7m') -PlainTextOutFile $script:plain | Out-Null
        $script:text = Get-Content -Raw $script:plain
    }

    It 'reads a token made by openssl smime (AES-256, CRLF), verifies it with Apple and marks the request Used' {
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'Contoso iPads_Token_2026-11-29T10-11-12Z_smime.p7m') -Text $text
        $t = New-AdeToken -Request $request -Path $file.Path -AppleId 'admin@contoso.com' -EnrollmentUrl 'https://mdm.contoso.com/enroll' -ScopeTag 'Amsterdam', 'Utrecht' -ServiceUri $sim.Uri
        $t | Should -BeOfType ((Get-AdeModuleType AdeEnrollment.Engine.Model.AdeToken))
        $t.Name | Should -Be $server # named after the MDM server Apple reports
        $t.ServerName | Should -Be $server
        $t.AppleId | Should -Be 'admin@contoso.com'
        $t.Status | Should -Be 'Active'
        $t.DaysUntilExpiry | Should -BeIn 364, 365
        $t.ScopeTags | Should -Be @('Amsterdam', 'Utrecht')
        $t.EnrollmentUrl | Should -Be 'https://mdm.contoso.com/enroll'
        (Get-AdeTokenRequest -Id $request.Id).Status | Should -Be 'Used'
        (Get-AdeTokenRequest -Id $request.Id).TokenName | Should -Be $server
    }

    It 'accepts <Case>' -ForEach @(
        @{ Case = 'AES-128 with LF line ends'; Cipher = '-aes128'; Lf = $true }
        @{ Case = '3DES'; Cipher = '-des3'; Lf = $false }
    ) {
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'c.p7m') -Cipher $Cipher -Lf:$Lf -Text $text
        (New-AdeToken -Request $request.Id -Path $file.Path -AppleId 'a@b.example' -Name 'T' -ServiceUri $sim.Uri).Name | Should -Be 'T'
    }

    It 'refuses a request that was already used (TokenRequestAlreadyUsed)' {
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'a.p7m') -Text $text
        New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' -ServiceUri $sim.Uri | Out-Null
        $second = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'b.p7m')
        $before = Get-StoreState
        { New-AdeToken -Request $request -Path $second.Path -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenRequestAlreadyUsed,AdeEnrollment.Commands.NewAdeTokenCommand'
        Get-StoreState | Should -Be $before
    }

    It 'refuses a file encrypted for another key (TokenDecryptionFailed) naming the likely cause' {
        $otherPem = Join-Path $TestDrive 'other.pem'
        New-AdeTokenRequest -AcceptDataSharing -OutFile $otherPem | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $otherPem -OutFile (Join-Path $TestDrive 'foreign.p7m')
        $before = Get-StoreState
        $err = { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenDecryptionFailed,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match 'wrong request'
        $err.Exception.Message | Should -Match 'another public key'
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        Get-StoreState | Should -Be $before
    }

    It 'refuses <Case> (TokenFileInvalid) and changes nothing' -ForEach @(
        @{ Case = 'a truncated file'; Make = { param($good, $p) $b = [IO.File]::ReadAllBytes($good); [IO.File]::WriteAllBytes($p, $b[0..([int]($b.Length / 2))]) } }
        @{ Case = 'corrupt base64'; Make = { param($good, $p) $t = Get-Content -Raw $good; Set-Content $p ($t.Substring(0, 300) + '%%%!!' + $t.Substring(305)) -NoNewline } }
        @{ Case = 'the uploaded PEM instead of the .p7m'; Make = { param($good, $p, $pem) Copy-Item $pem $p } }
        @{ Case = 'a file over 1 MiB'; Make = { param($good, $p) [IO.File]::WriteAllBytes($p, [byte[]]::new(1MB + 1)) } }
        @{ Case = 'an empty file'; Make = { param($good, $p) Set-Content $p '' -NoNewline } }
    ) {
        $good = (New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'good.p7m')).Path
        $bad = Join-Path $TestDrive 'bad.p7m'
        & $Make $good $bad $pem
        $before = Get-StoreState
        $err = { New-AdeToken -Request $request -Path $bad -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenFileInvalid,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        Get-StoreState | Should -Be $before
    }

    It 'refuses a key or token saved on one line naming only its PEM label, never the rest (<Case>)' -ForEach @(
        @{ Case = 'a private key with literal \n'; Text = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgK3yB0dyS3cr3t\n-----END PRIVATE KEY-----'; Secret = 'K3yB0dyS3cr3t'; Label = '(-----BEGIN PRIVATE KEY-----)' }
        @{ Case = 'a decrypted token'; Text = '-----BEGIN MESSAGE-----{"consumer_key":"CK_1","consumer_secret":"CS_S3cr3t","access_secret":"AS_S3cr3t"}-----END MESSAGE-----'; Secret = 'S3cr3t'; Label = '(-----BEGIN MESSAGE-----)' }
    ) {
        $bad = Join-Path $TestDrive 'one-line.pem'
        Set-Content $bad $Text -NoNewline
        $before = Get-StoreState
        $err = { New-AdeToken -Request $request -Path $bad -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenFileInvalid,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*$Label*"
        ($err | Format-List * -Force | Out-String) + ($err.Exception | Format-List * -Force | Out-String) | Should -Not -Match $Secret
        Get-StoreState | Should -Be $before
    }

    It 'refuses -ServiceUri with a password without showing it (<Uri>)' -ForEach @(
        @{ Uri = 'https://svc:P4ssw0rd@proxy.corp.example/' }, @{ Uri = 'http://svc:P4ssw0rd@127.0.0.1:8080/' }
    ) {
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'uri.p7m')
        $before = Get-StoreState
        $err = { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' -ServiceUri $Uri -AllowNonAppleServiceUri } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'user name, a password'
        ($err | Format-List * -Force | Out-String) + "$($err.TargetObject)" | Should -Not -Match 'P4ssw0rd'
        Get-StoreState | Should -Be $before
    }

    It 'refuses JSON without <Field> (TokenContentInvalid)' -ForEach @(
        @{ Field = 'consumer_secret' }, @{ Field = 'access_secret' }, @{ Field = 'access_token_expiry' }
    ) {
        $o = [ordered]@{ consumer_key = 'CK_1'; consumer_secret = 'CS_1'; access_token = 'AT_1'; access_secret = 'AS_1'; access_token_expiry = '2030-01-01T00:00:00Z' }
        $o.Remove($Field)
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'fields.p7m') -Json ($o | ConvertTo-Json -Compress)
        $before = Get-StoreState
        $err = { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenContentInvalid,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match $Field
        Get-StoreState | Should -Be $before
    }

    It 'refuses an expired token (TokenExpired)' {
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'old.p7m') -Expiry ([datetime]::UtcNow.AddDays(-1))
        $before = Get-StoreState
        { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenExpired,AdeEnrollment.Commands.NewAdeTokenCommand'
        Get-StoreState | Should -Be $before
    }

    It 'refuses a second token for the same consumer key (TokenAlreadyExists, suggests Update-AdeToken)' {
        $first = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'first.p7m') -Text $text
        New-AdeToken -Request $request -Path $first.Path -AppleId 'a@b.example' -Name 'First' -ServiceUri $sim.Uri | Out-Null
        $pem2 = Join-Path $TestDrive 'second.pem'
        $r2 = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem2
        # The same server token (same consumer key) encrypted for another request's key.
        $second = New-TestServerTokenFile -CertificatePath $pem2 -OutFile (Join-Path $TestDrive 'second.p7m') -Text $text
        $before = Get-StoreState
        $err = { New-AdeToken -Request $r2 -Path $second.Path -AppleId 'a@b.example' -ServiceUri $sim.Uri } | Should -Throw -ErrorId 'TokenAlreadyExists,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match 'Update-AdeToken'
        Get-StoreState | Should -Be $before
    }

    It 'refuses the 2001st token (TokenLimitReached)' {
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        $rows = 1..2000 | ForEach-Object { "('t$_', 'T$_', 'a@b.example', 'h$_', x'00', $now, 'r', '[]', 'https://x', $now, $now)" }
        Invoke-Sql $db ("PRAGMA foreign_keys=OFF; INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, scope_tags, service_uri, created_at, modified_at) VALUES " + ($rows -join ','))
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'limit.p7m') -Text $text
        $err = { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' -ServiceUri $sim.Uri } | Should -Throw -ErrorId 'TokenLimitReached,AdeEnrollment.Commands.NewAdeTokenCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        (Get-AdeStore).TokenCount | Should -Be 2000
        (Get-AdeTokenRequest -Id $request.Id).Status | Should -Be 'Pending'
    }

    It 'refuses a missing file (TokenFileNotFound) and a bad Apple ID (ArgumentInvalid)' {
        { New-AdeToken -Request $request -Path (Join-Path $TestDrive 'nope.p7m') -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenFileNotFound,AdeEnrollment.Commands.NewAdeTokenCommand'
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 'ok.p7m')
        { New-AdeToken -Request $request -Path $file.Path -AppleId 'not-an-email' } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeTokenCommand'
        { New-AdeToken -Request $request -Path $file.Path -AppleId 'a@b.example' -EnrollmentUrl 'http://insecure.example' } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.NewAdeTokenCommand'
        { New-AdeToken -Request ([guid]::NewGuid()) -Path $file.Path -AppleId 'a@b.example' } | Should -Throw -ErrorId 'TokenRequestNotFound,AdeEnrollment.Commands.NewAdeTokenCommand'
    }
}

Describe 'Get-AdeToken' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'get.db')
        New-TestToken -Folder $TestDrive -Name 'Amsterdam iPads' | Out-Null
        New-TestToken -Folder $TestDrive -Name 'Amsterdam iPhones' -Expiry ([datetime]::UtcNow.AddDays(20)) 3>$null | Out-Null
        New-TestToken -Folder $TestDrive -Name 'Utrecht' | Out-Null
    }

    It 'lists every token sorted by name' {
        (Get-AdeToken).Name | Should -Be @('Amsterdam iPads', 'Amsterdam iPhones', 'Utrecht')
    }

    It 'filters by wildcard name and by Id' {
        (Get-AdeToken -Name 'amsterdam*').Count | Should -Be 2
        $u = Get-AdeToken -Name Utrecht
        (Get-AdeToken -Id $u.Id).Name | Should -Be 'Utrecht'
        ($u | Get-AdeToken).Name | Should -Be 'Utrecht'
    }

    It 'marks a token that expires within 30 days ExpiringSoon' {
        $t = Get-AdeToken -Name 'Amsterdam iPhones'
        $t.Status | Should -Be 'ExpiringSoon'
        $t.DaysUntilExpiry | Should -BeIn 19, 20
    }

    It 'writes a non-terminating TokenNotFound for an exact name that does not exist, and nothing for an unmatched wildcard' {
        Get-AdeToken -Name 'Rotterdam' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'TokenNotFound,AdeEnrollment.Commands.GetAdeTokenCommand'
        Get-AdeToken -Name 'Rotter*' -ErrorVariable e2 | Should -BeNullOrEmpty
        $e2 | Should -BeNullOrEmpty
    }

    It 'shows a table with the columns an admin scans' {
        # what tells a token's health first, so that an 80-column console keeps it; the names behind
        $text = Get-AdeToken | Format-Table | Out-String -Width 80
        $text | Should -Match 'Name\s+Status\s+Days\s+ExpiresAt\s+Devices'
        $text | Should -Match 'ExpiringSoon'
        Get-AdeToken | Format-Table | Out-String -Width 120 | Should -Match 'ServerName\s+AppleId'
    }
}

Describe 'Update-AdeToken' {
    BeforeEach {
        Connect-AdeStore -Path (Join-Path $TestDrive "upd-$([guid]::NewGuid().ToString('N')).db")
        $script:t = New-TestToken -Folder $TestDrive -Name 'Renew me' -Expiry ([datetime]::UtcNow.AddDays(10)) 3>$null
    }

    It 'renews with a new .p7m for the same key and replaces the expiry' {
        Export-AdeSimServerToken -Server $t.Server -OutFile (Join-Path $TestDrive 'abm-renew.p7m') -PlainTextOutFile $t.PlainText | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $t.Pem -OutFile (Join-Path $TestDrive 'renew.p7m') -Text (Get-Content -Raw $t.PlainText)
        $u = Update-AdeToken -Token 'Renew me' -Path $file.Path
        $u.Status | Should -Be 'Active'
        $u.DaysUntilExpiry | Should -BeGreaterThan 360
        $u.AppleId | Should -Be 'admin@contoso.com'
    }

    It 'warns when the Apple ID changes and keeps the change' {
        Export-AdeSimServerToken -Server $t.Server -OutFile (Join-Path $TestDrive 'abm-renew2.p7m') -PlainTextOutFile $t.PlainText | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $t.Pem -OutFile (Join-Path $TestDrive 'renew2.p7m') -Text (Get-Content -Raw $t.PlainText)
        $u = $t.Token | Update-AdeToken -Path $file.Path -AppleId 'new.admin@contoso.com' -WarningVariable w 3>$null
        $u.AppleId | Should -Be 'new.admin@contoso.com'
        ($w -join ' ') | Should -Match 'not affected'
    }

    It 'a warning that stops the renewal (-WarningAction Stop, or -Debug where nobody can answer) stops it before anything is stored' {
        Export-AdeSimServerToken -Server $t.Server -OutFile (Join-Path $TestDrive 'abm-renew3.p7m') -PlainTextOutFile $t.PlainText | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $t.Pem -OutFile (Join-Path $TestDrive 'renew3.p7m') -Text (Get-Content -Raw $t.PlainText)
        $before = Get-AdeToken -Id $t.Token.Id
        { $t.Token | Update-AdeToken -Path $file.Path -AppleId 'third.admin@contoso.com' -WarningAction Stop -ErrorAction Stop } | Should -Throw
        $after = Get-AdeToken -Id $t.Token.Id
        ($after.AppleId, $after.ExpiresAt) | Should -Be @($before.AppleId, $before.ExpiresAt) # the run said it stopped, and it did
    }

    It 'refuses a file made for another key (TokenDecryptionFailed) and keeps the old credentials' {
        $otherPem = Join-Path $TestDrive 'o.pem'
        New-AdeTokenRequest -AcceptDataSharing -OutFile $otherPem | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $otherPem -OutFile (Join-Path $TestDrive 'o.p7m')
        $before = (Get-AdeToken -Name 'Renew me').ExpiresAt
        { Update-AdeToken -Token 'Renew me' -Path $file.Path } | Should -Throw -ErrorId 'TokenDecryptionFailed,AdeEnrollment.Commands.UpdateAdeTokenCommand'
        (Get-AdeToken -Name 'Renew me').ExpiresAt | Should -Be $before
    }

    It 'refuses a superseded file (Apple rejects it) and leaves the token as it was' {
        $older = Join-Path $TestDrive 'older.p7m'
        Export-AdeSimServerToken -Server $t.Server -OutFile $older | Out-Null
        Export-AdeSimServerToken -Server $t.Server -OutFile (Join-Path $TestDrive 'newest.p7m') | Out-Null # ABM: the newer download supersedes 'older'
        $before = Get-AdeToken -Name 'Renew me'
        { Update-AdeToken -Token 'Renew me' -Path $older } | Should -Throw -ErrorId 'AppleTokenRejected,AdeEnrollment.Commands.UpdateAdeTokenCommand'
        $after = Get-AdeToken -Name 'Renew me'
        $after.ExpiresAt | Should -Be $before.ExpiresAt
        $after.Status | Should -Be $before.Status
        $after.ModifiedAt | Should -Be $before.ModifiedAt
    }

    It 'renews with the newest download and records what Apple says about the server' {
        $newest = Join-Path $TestDrive 'newest2.p7m'
        Export-AdeSimServerToken -Server $t.Server -OutFile $newest | Out-Null
        $u = Update-AdeToken -Token 'Renew me' -Path $newest
        $u.Status | Should -Be 'Active'
        $u.ServerName | Should -Be $t.Server
    }

    It 'refuses the token of another MDM server (TokenServerMismatch) naming both servers, and changes nothing' {
        # The admin uploaded the same certificate to a second MDM server: its file decrypts with this token's key.
        $other = "Other server $([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $otherFile = Join-Path $TestDrive 'other-server.p7m'
        New-AdeSimServer -Name $other -PublicKeyPath $t.Pem -OutFile $otherFile | Out-Null
        $before = Get-AdeToken -Name 'Renew me'
        $err = { Update-AdeToken -Token 'Renew me' -Path $otherFile } | Should -Throw -ErrorId 'TokenServerMismatch,AdeEnrollment.Commands.UpdateAdeTokenCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.Exception.Message | Should -BeLike "*'$other'*"
        $err.Exception.Message | Should -BeLike "*'$($t.Server)'*"
        $err.Exception.Message | Should -BeLike '*New-AdeToken*'
        $after = Get-AdeToken -Name 'Renew me'
        $after.ExpiresAt | Should -Be $before.ExpiresAt
        $after.ServerUuid | Should -Be $before.ServerUuid
    }
}

Describe 'Set-AdeToken' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'set.db')
        New-TestToken -Folder $TestDrive -Name 'One' | Out-Null
        New-TestToken -Folder $TestDrive -Name 'Two' | Out-Null
    }

    It 'renames, sets scope tags and the enrollment URL' {
        $t = Set-AdeToken -Token One -NewName 'Uno' -ScopeTag 'North', 'north', 'South' -EnrollmentUrl 'https://mdm.example.com/e' -PassThru
        $t.Name | Should -Be 'Uno'
        $t.ScopeTags | Should -Be @('North', 'South')
        $t.EnrollmentUrl | Should -Be 'https://mdm.example.com/e'
    }

    It 'refuses an enrollment URL with credentials or over 2,048 characters, without showing its secrets' {
        $err = { Set-AdeToken -Token Two -EnrollmentUrl 'https://admin:hunter2@mdm.example.com/e?key=s3cret' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match 'user name or password'
        "$($err.Exception.Message) $($err.TargetObject)" | Should -Not -Match 'hunter2|s3cret'
        { Set-AdeToken -Token Two -EnrollmentUrl ('https://mdm.example.com/' + 'a' * 2048) -ErrorAction Stop } |
            Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.SetAdeTokenCommand'
        (Get-AdeToken -Name Two).EnrollmentUrl | Should -Not -Match 'hunter2|aaaa'
    }

    It 'refuses a name that another token has (TokenNameConflict) as a non-terminating error' {
        Get-AdeToken -Name Two | Set-AdeToken -NewName 'Uno' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'TokenNameConflict,AdeEnrollment.Commands.SetAdeTokenCommand'
        (Get-AdeToken -Name Two).Name | Should -Be 'Two'
    }

    It '-Name names the token to change (as on Get-AdeToken), never its new name' {
        # it used to be the new name: `Set-AdeToken -Name 'Two*' -ScopeTag x` renamed a token to the text 'Two*'
        $t = Set-AdeToken -Name 'Tw?' -ScopeTag 'West' -PassThru
        ($t.Name, ($t.ScopeTags -join ',')) | Should -Be @('Two', 'West')
        (Get-Command Set-AdeToken).Parameters['Token'].Aliases | Should -Contain 'Name'
    }

    It '-WhatIf changes nothing and passes nothing on, even with -PassThru' {
        Set-AdeToken -Token Two -NewName 'Dos' -WhatIf -PassThru | Should -BeNullOrEmpty
        (Get-AdeToken -Name Two).Name | Should -Be 'Two'
        (Set-AdeToken -Token Two -NewName 'Two' -PassThru).Name | Should -Be 'Two' # nothing to change: the token as it is
    }
}

Describe 'Remove-AdeToken' {
    BeforeEach {
        $script:db = Join-Path $TestDrive "rm-$([guid]::NewGuid().ToString('N')).db"
        Connect-AdeStore -Path $db
        $script:t = (New-TestToken -Folder $TestDrive -Name 'Old').Token
    }

    It 'removes a token without dependents, with its request' {
        Remove-AdeToken -Token Old -Confirm:$false
        Get-AdeToken | Should -BeNullOrEmpty
        (Get-AdeStore).TokenRequestCount | Should -Be 0
    }

    It 'asks for confirmation (ConfirmImpact High): -WhatIf removes nothing' {
        (Get-Command Remove-AdeToken).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
        Remove-AdeToken -Token Old -WhatIf
        (Get-AdeToken).Count | Should -Be 1
    }

    It 'refuses while the token has devices, a default profile and profiles, naming each with its count' {
        $id = $t.Id.ToString()
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        Invoke-Sql $db "INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ('p1', '$id', 'Kiosk', '{}', $now, $now), ('p2', '$id', 'Staff', '{}', $now, $now)"
        Invoke-Sql $db "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('$id', 'C02AAA', $now), ('$id', 'C02BBB', $now), ('$id', 'C02CCC', $now)"
        Invoke-Sql $db "INSERT INTO token_default_profile (token_id, platform, profile_id) VALUES ('$id', 'iOS', 'p1')"
        $err = { Remove-AdeToken -Token Old -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'TokenHasDependents,AdeEnrollment.Commands.RemoveAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -Match '3 devices'
        $err.Exception.Message | Should -BeLike "*the default profile 'Kiosk'*"
        $err.Exception.Message | Should -Not -BeLike '*(1)*'
        $err.Exception.Message | Should -Match '2 profiles'
        $err.Exception.Message | Should -BeLike "*Set-AdeDefaultProfile -Token 'Old' -Clear*"
        (Get-AdeToken -Name Old).DeviceCount | Should -Be 3
        (Get-AdeToken -Name Old).DefaultProfile | Should -Be 'Kiosk'
    }

    It 'advises only what blocks: one device and no default profile' {
        $id = $t.Id.ToString()
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        Invoke-Sql $db "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('$id', 'C02ONE', $now)"
        $err = { Remove-AdeToken -Token Old -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'TokenHasDependents,AdeEnrollment.Commands.RemoveAdeTokenCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*while it has 1 device.*'
        $err.Exception.Message | Should -Not -BeLike '*default profile*'
        $err.Exception.Message | Should -Not -BeLike '*Remove-AdeProfile*'
        $err.Exception.Message | Should -BeLike "*Get-AdeDevice -Token 'Old' | Remove-AdeDevice*"
    }

    It 'in a pipeline, a refused token does not stop the others' {
        $other = (New-TestToken -Folder $TestDrive -Name 'Other').Token
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        Invoke-Sql $db "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('$($t.Id)', 'C02AAA', $now)"
        Get-AdeToken | Remove-AdeToken -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        (Get-AdeToken).Name | Should -Be 'Old'
    }
}

Describe 'Secrets never leave the store in clear' {
    It 'no secret in output objects, verbose/debug text, errors or the SQLite file' {
        $db = Join-Path $TestDrive 'secrets.db'
        Connect-AdeStore -Path $db
        $pem = Join-Path $TestDrive 's.pem'
        $r = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        New-AdeSimServer -Name 'Secret keeper' -PublicKeyPath $pem -OutFile (Join-Path $TestDrive 'abm-s.p7m') -PlainTextOutFile (Join-Path $TestDrive 's.txt') | Out-Null
        $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $TestDrive 's.p7m') -Text (Get-Content -Raw (Join-Path $TestDrive 's.txt'))
        $stream = & {
            $t = New-AdeToken -Request $r -Path $file.Path -AppleId 'a@b.example' -ServiceUri $sim.Uri -Verbose -Debug
            $t
            $t | Format-List * | Out-String
            Get-AdeToken -Verbose | Format-List * | Out-String
            Get-AdeTokenRequest | Format-List * | Out-String
            Sync-AdeDevice -Token $t -Verbose -Debug | Out-String
            try { New-AdeToken -Request $r -Path $file.Path -AppleId 'a@b.example' -ServiceUri $sim.Uri } catch { $_ | Format-List * -Force | Out-String }
        } *>&1 | Out-String
        $secrets = $file.ConsumerSecret, $file.AccessSecret, $file.AccessToken
        foreach ($s in $secrets) { $stream | Should -Not -Match ([regex]::Escape($s)) }
        (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::ClearAllPools()
        $bytes = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($db))
        if (Test-Path "$db-wal") { $bytes += [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes("$db-wal")) }
        foreach ($s in $secrets) { $bytes.Contains($s) | Should -BeFalse }
        $bytes.Contains('PRIVATE KEY') | Should -BeFalse
    }
}

Describe '-Token and -Profile take objects, names and Ids' {
    BeforeAll {
        Connect-AdeStore -Path (Join-Path $TestDrive 'refs.db')
        $script:t = (New-SimToken -Name 'Refs' -Folder $TestDrive).Token
        $script:p = New-AdeProfile -Token $t -Name 'Staff' -UserAffinity WithUserAffinity
    }

    It 'shows -<Name> as an object parameter in the syntax' -ForEach @(
        @{ Name = 'Token'; Command = 'Sync-AdeDevice' }
        @{ Name = 'Profile'; Command = 'Set-AdeDeviceProfile' }
        @{ Name = 'Token'; Command = 'Set-AdeDefaultProfile' }
    ) {
        (Get-Command $Command).Parameters[$Name].ParameterType | Should -Be ([object])
        Get-Command $Command -Syntax | Should -Match "-$Name\]? <Object>"
    }

    It 'binds a token object, its name and its Id alike' {
        (Get-AdeSyncStatus -Token $t).TokenId | Should -Be $t.Id
        (Get-AdeSyncStatus -Token 'Refs').TokenId | Should -Be $t.Id
        (Get-AdeSyncStatus -Token $t.Id).TokenId | Should -Be $t.Id
        ($t | Get-AdeSyncStatus).TokenId | Should -Be $t.Id
        { Get-AdeSyncStatus -Token 'No such token' -ErrorAction Stop } | Should -Throw -ErrorId 'TokenNotFound,AdeEnrollment.Commands.GetAdeSyncStatusCommand'
    }

    It 'Set-AdeDefaultProfile still takes the token from a piped profile or a row with a Token column' {
        ($p | Set-AdeDefaultProfile -Profile $p -PassThru).DefaultProfile | Should -Be 'Staff'
        Set-AdeDefaultProfile -Token $t -Clear
        ([pscustomobject]@{ Token = 'Refs' } | Set-AdeDefaultProfile -Profile 'Staff' -PassThru).DefaultProfile | Should -Be 'Staff'
        Set-AdeDefaultProfile -Token 'Refs' -Clear
        ([pscustomobject]@{ TokenId = $t.Id } | Set-AdeDefaultProfile -Profile $p.Id -PassThru).DefaultProfile | Should -Be 'Staff'
        Set-AdeDefaultProfile -Token 'Refs' -Clear
    }

    It 'Set-AdeDefaultProfile takes the profile as its positional value when the token is piped' {
        (Get-AdeToken -Name 'Refs' | Set-AdeDefaultProfile 'Staff' -PassThru).DefaultProfile | Should -Be 'Staff'
        Set-AdeDefaultProfile -Token 'Refs' -Clear
        (Set-AdeDefaultProfile 'Staff' -Token 'Refs' -PassThru).DefaultProfile | Should -Be 'Staff'
        (Set-AdeDefaultProfile 'Refs' -Clear -PassThru).DefaultProfile | Should -BeNullOrEmpty
        (Set-AdeDefaultProfile -Token $t -Profile $p -PassThru).DefaultProfile | Should -Be 'Staff'
        ($t | Set-AdeDefaultProfile -Clear -PassThru).DefaultProfile | Should -BeNullOrEmpty
        # the token is never taken for the first positional value of a set
        { Set-AdeDefaultProfile 'Refs' 'Staff' -ErrorAction Stop } | Should -Throw -ErrorId 'PositionalParameterNotFound,AdeEnrollment.Commands.SetAdeDefaultProfileCommand'
        (Get-AdeToken -Name 'Refs').DefaultProfile | Should -BeNullOrEmpty
    }

    It 'Get-AdeToken gives the token of a piped profile, device or row with a TokenId or Token column' {
        $other = (New-SimToken -Name 'Refs devices' -Devices 2 -Folder $TestDrive).Token
        Sync-AdeDevice -Token $other | Out-Null
        ($p | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        (Get-AdeDevice -Token $other | Select-Object -First 1 | Get-AdeToken -ErrorAction Stop).Id | Should -Be $other.Id
        ([pscustomobject]@{ TokenId = $t.Id } | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        ([pscustomobject]@{ Token = 'Refs devices' } | Get-AdeToken -ErrorAction Stop).Id | Should -Be $other.Id
        @($p, $other | Get-AdeToken -ErrorAction Stop).Name | Should -Be @('Refs', 'Refs devices')
        # a token, its name, a wildcard and its Id as before
        ($t | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        ('Refs' | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        @('Refs*' | Get-AdeToken -ErrorAction Stop).Count | Should -Be 2
        (Get-AdeToken -Id $t.Id -ErrorAction Stop).Id | Should -Be $t.Id
        ($t.Id | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        # a piped object of a token that is not (or no longer) in the store is a non-terminating TokenNotFound
        $gone = [guid]::NewGuid()
        @([pscustomobject]@{ TokenId = $gone }, $p | Get-AdeToken -ErrorVariable e -ErrorAction SilentlyContinue).Id | Should -Be $t.Id
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'TokenNotFound,AdeEnrollment.Commands.GetAdeTokenCommand'
        $e[0].TargetObject | Should -Be "$gone"
    }

    It 'rows of exported tokens and profiles pipe back in by their Id or Name; an object with neither is refused naming its properties' {
        $csv = Join-Path $TestDrive 'tokens.csv'
        Get-AdeToken -Name 'Refs' | Export-Csv $csv
        (Import-Csv $csv | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        (@{ Name = 'Refs' } | Get-AdeToken -ErrorAction Stop).Id | Should -Be $t.Id
        (Get-AdeToken "$($t.Id)" -ErrorAction Stop).Name | Should -Be 'Refs' # an Id by position
        $profiles = Join-Path $TestDrive 'profiles.csv'
        $p | Export-Csv $profiles
        (Import-Csv $profiles | Set-AdeProfile -Department 'From CSV' -PassThru -ErrorAction Stop).Id | Should -Be $p.Id
        $err = { [pscustomobject]@{ Colour = 'red' } | Get-AdeToken -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -Match 'no Id or Name property \(its properties: Colour\)'
        { @{ Name = 'No such token' } | Remove-AdeToken -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'TokenNotFound,AdeEnrollment.Commands.RemoveAdeTokenCommand'
    }
}
