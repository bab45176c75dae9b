# Shared helpers for the Pester suite. Dot-source in BeforeAll.
Import-Module AdeEnrollment -Force

function Get-AdeModuleType([string] $FullName) {
    # The module's assemblies live in its own AssemblyLoadContext, which PowerShell's [type] literals do not search.
    foreach ($assembly in [AdeEnrollment.Loader.LoadContext]::Current.Assemblies) {
        $type = $assembly.GetType($FullName)
        if ($type) { return $type }
    }
    throw "Type $FullName is not loaded in the AdeEnrollment load context."
}

function New-TestServerTokenFile {
    <#
    .SYNOPSIS
        An Apple-format server token made by an independent producer: the openssl CLI
        (`openssl smime -encrypt -binary -aes256`) encrypting the MIME+MESSAGE text to the PEM that
        New-AdeTokenRequest wrote.
    #>
    param(
        [Parameter(Mandatory)] [string] $CertificatePath,
        [Parameter(Mandatory)] [string] $OutFile,
        [string] $ConsumerKey = ('CK_' + [guid]::NewGuid().ToString('N')),
        [string] $ConsumerSecret = ('CS_' + [guid]::NewGuid().ToString('N')),
        [string] $AccessToken = ('AT_' + [guid]::NewGuid().ToString('N')),
        [string] $AccessSecret = ('AS_' + [guid]::NewGuid().ToString('N')),
        [datetime] $Expiry = [datetime]::UtcNow.AddDays(365),
        [string] $Json,
        # The whole plaintext (MIME headers and MESSAGE block), as New-AdeSimServer -PlainTextOutFile writes it.
        [string] $Text,
        [string] $Cipher = '-aes256',
        [switch] $Lf
    )
    if (-not (Get-Command openssl -ErrorAction SilentlyContinue)) { throw 'The openssl CLI is required by this test suite (.ci/run installs it).' }
    if (-not $Json) {
        $Json = [ordered]@{
            consumer_key = $ConsumerKey; consumer_secret = $ConsumerSecret
            access_token = $AccessToken; access_secret = $AccessSecret
            access_token_expiry = $Expiry.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")
        } | ConvertTo-Json -Compress
    }
    $nl = if ($Lf) { "`n" } else { "`r`n" }
    if ($Text) {
        $message = ($Text -split '-----BEGIN MESSAGE-----')[1] -split '-----END MESSAGE-----' | Select-Object -First 1
        $fields = $message.Trim() | ConvertFrom-Json
        $ConsumerKey = $fields.consumer_key; $ConsumerSecret = $fields.consumer_secret
        $AccessToken = $fields.access_token; $AccessSecret = $fields.access_secret
        $text = if ($Lf) { $Text -replace "`r`n", "`n" } else { $Text }
    } else {
        $text = "Content-Type: text/plain;charset=UTF-8${nl}Content-Transfer-Encoding: 7bit${nl}${nl}-----BEGIN MESSAGE-----${nl}$Json${nl}-----END MESSAGE-----${nl}"
    }
    $plain = [IO.Path]::GetTempFileName()
    try {
        [IO.File]::WriteAllText($plain, $text)
        & openssl smime -encrypt -binary $Cipher -in $plain -out $OutFile $CertificatePath
        if ($LASTEXITCODE -ne 0) { throw "openssl failed ($LASTEXITCODE)" }
    } finally {
        Remove-Item $plain -Force
    }
    [pscustomobject]@{ Path = $OutFile; ConsumerKey = $ConsumerKey; ConsumerSecret = $ConsumerSecret; AccessToken = $AccessToken; AccessSecret = $AccessSecret }
}

function New-TestToken {
    <#
    .SYNOPSIS
        A request and a token in the current store, the token made by openssl from what the simulator's ABM would
        encrypt (New-AdeSimServer -PlainTextOutFile), and verified by New-AdeToken against the simulator.
    #>
    param([string] $Folder, [string] $Name, [datetime] $Expiry)
    $sim = Get-Variable -Name sim -Scope Script -ValueOnly -ErrorAction SilentlyContinue
    if (-not $sim) { throw 'Start-AdeSimulator first ($script:sim).' }
    $id = [guid]::NewGuid().ToString('N')
    $pem = Join-Path $Folder "req-$id.pem"
    $plain = Join-Path $Folder "plain-$id.txt"
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    $server = "Server $id"
    New-AdeSimServer -Name $server -PublicKeyPath $pem -OutFile (Join-Path $Folder "abm-$id.p7m") -PlainTextOutFile $plain | Out-Null
    if ($PSBoundParameters.ContainsKey('Expiry')) {
        Export-AdeSimServerToken -Server $server -OutFile (Join-Path $Folder "abm2-$id.p7m") -ExpiresAt $Expiry -PlainTextOutFile $plain | Out-Null
    }
    $file = New-TestServerTokenFile -CertificatePath $pem -OutFile (Join-Path $Folder "tok-$id.p7m") -Text (Get-Content -Raw $plain)
    $params = @{ Request = $request; Path = $file.Path; AppleId = 'admin@contoso.com'; ServiceUri = $sim.Uri }
    if ($Name) { $params.Name = $Name }
    $token = New-AdeToken @params
    [pscustomobject]@{ Token = $token; Request = $request; File = $file; Pem = $pem; Server = $server; PlainText = $plain }
}

function New-SimToken {
    <#
    .SYNOPSIS
        The real onboarding against the simulator: New-AdeTokenRequest -> New-AdeSimServer (ABM "add MDM server")
        -> New-AdeToken -ServiceUri. Optionally assigns generated devices to the server.
    #>
    param(
        [Parameter(Mandatory)] [string] $Name,
        [int] $Devices = 0,
        [string] $EnrollmentUrl = 'https://mdm.contoso.example/enroll',
        [string] $Folder = $TestDrive
    )
    $sim = Get-Variable -Name sim -Scope Script -ValueOnly -ErrorAction SilentlyContinue
    if (-not $sim) { throw 'Start-AdeSimulator first ($script:sim).' }
    $pem = Join-Path $Folder "$Name.pem"
    $p7m = Join-Path $Folder "$Name.p7m"
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    $server = New-AdeSimServer -Name $Name -PublicKeyPath $pem -OutFile $p7m -OrgName 'Contoso Ltd'
    $token = New-AdeToken -Request $request -Path $p7m -AppleId 'ade.admin@contoso.example' -Name $Name -EnrollmentUrl $EnrollmentUrl -ServiceUri $sim.Uri
    if ($Devices -gt 0) { Add-AdeSimDevice -Server $Name -Count $Devices | Out-Null }
    [pscustomobject]@{ Token = $token; Server = $server; Request = $request; Pem = $pem; TokenFile = $p7m }
}

function Invoke-StoreSql([string] $Sql) {
    $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$((Get-AdeStore).Path);Pooling=False")
    try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
}
