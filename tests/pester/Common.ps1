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

# --- Stores on either provider -------------------------------------------------------------------------------------
# Tests that run against both providers take a store from New-TestStore: a SQLite file under $TestDrive, or a fresh
# schema on the PostgreSQL test server of $env:ADE_TEST_POSTGRES (README, "The PostgreSQL leg"; without it the
# PostgreSQL variants fail, they are never skipped).
$script:TestStorePassphrase = 'correct horse battery staple'

function Get-TestPostgres {
    if (-not $env:ADE_TEST_POSTGRES) {
        throw 'No PostgreSQL test server: set $env:ADE_TEST_POSTGRES (README, "The PostgreSQL leg"; build.ps1 Test starts one).'
    }
    $parts = @{}
    foreach ($pair in $env:ADE_TEST_POSTGRES -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $parts[$k.Trim()] = $v } }
    $parts
}

function Invoke-PgSql([string] $Sql, [string] $Schema) {
    # Through the module's own Npgsql (it lives in the module's AssemblyLoadContext).
    $type = [AdeEnrollment.Loader.LoadContext]::Current.LoadFromAssemblyName([Reflection.AssemblyName]::new('Npgsql')).GetType('Npgsql.NpgsqlConnection', $true)
    # A generous connect timeout: test machines run many servers and suites at once.
    $cs = $env:ADE_TEST_POSTGRES + ';Timeout=60'
    if ($Schema) { $cs += ";Search Path=$Schema" }
    $c = $type::new($cs)
    try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.CommandTimeout = 120; $cmd.ExecuteScalar() } finally { $c.Dispose() }
}

function New-TestStore {
    <#
    .SYNOPSIS
        A new empty store on the provider named (SQLite file or PostgreSQL schema); -Connect makes it the session's store.
        The object carries what another process needs to open the same store (Path, or ConnectionString/Uri).
    #>
    param([Parameter(Mandatory)] [ValidateSet('SQLite', 'PostgreSQL')] [string] $Provider, [string] $Folder = $TestDrive, [switch] $Connect)
    $id = [guid]::NewGuid().ToString('N').Substring(0, 12)
    if ($Provider -eq 'SQLite') {
        $store = [pscustomobject]@{ Provider = $Provider; Path = (Join-Path $Folder "store-$id.db"); Schema = $null; ConnectionString = $null; Uri = $null }
    } else {
        $pg = Get-TestPostgres
        $schema = "ade_t_$id"
        Invoke-PgSql "CREATE SCHEMA $schema" | Out-Null
        $store = [pscustomobject]@{
            Provider = $Provider; Path = $null; Schema = $schema
            # Without the password: it comes from -Password or PGPASSWORD.
            ConnectionString = "Host=$($pg.Host);Port=$($pg.Port);Database=$($pg.Database);Username=$($pg.Username);Search Path=$schema;Timeout=60"
            Uri = "postgresql://$($pg.Username)@$($pg.Host):$($pg.Port)/$($pg.Database)?Search%20Path=$schema&Timeout=60"
        }
    }
    if ($Connect) { Connect-TestStore $store }
    $store
}

function Connect-TestStore([Parameter(Mandatory)] $Store) {
    if ($Store.Provider -eq 'SQLite') {
        Connect-AdeStore -Path $Store.Path
    } else {
        $pg = Get-TestPostgres
        Connect-AdeStore -ConnectionString $Store.ConnectionString -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) `
            -Key (ConvertTo-SecureString $script:TestStorePassphrase -AsPlainText -Force)
    }
}

function Remove-TestStore([Parameter(Mandatory)] $Store) {
    Disconnect-AdeStore
    if ($Store.Provider -eq 'PostgreSQL') { Invoke-PgSql "DROP SCHEMA IF EXISTS $($Store.Schema) CASCADE" | Out-Null }
}

function Invoke-TestStoreSql([Parameter(Mandatory)] $Store, [Parameter(Mandatory)] [string] $Sql) {
    # Straight to the store's database, beside the engine: to seed rows fast or to read what it wrote.
    if ($Store.Provider -eq 'SQLite') {
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$($Store.Path);Pooling=False")
        try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
    } else {
        Invoke-PgSql $Sql $Store.Schema
    }
}

function Add-TestStoreProfiles([Parameter(Mandatory)] $Store, [Parameter(Mandatory)] [string] $TokenId, [Parameter(Mandatory)] [int] $Count) {
    # $Count plain profiles on a token in one statement (the same columns on both providers).
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
    $rows = 1..$Count | ForEach-Object { "('$([guid]::NewGuid())', '$TokenId', 'Seed $_', '{""UserAffinity"":""WithUserAffinity""}', $now, $now)" }
    Invoke-TestStoreSql $Store ("INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES " + ($rows -join ',')) | Out-Null
}

function Add-TestStoreTokens([Parameter(Mandatory)] $Store, [Parameter(Mandatory)] [int] $Count) {
    # $Count placeholder tokens (enough to count against the limit, never used) with their requests.
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
    $ids = 1..$Count | ForEach-Object { [pscustomobject]@{ N = $_; Token = [guid]::NewGuid(); Request = [guid]::NewGuid() } }
    $requests = $ids | ForEach-Object { "('$($_.Request)', $now, 'tp$($_.N)', 'pem', '\x00'::bytea, '$($_.Token)')" }
    $tokens = $ids | ForEach-Object { "('$($_.Token)', 'Seed $($_.N)', 'a@b.example', 'seed-h$($_.N)', '\x00'::bytea, $now, '$($_.Request)', '[]', 'https://x', $now, $now)" }
    $sql = "INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key, token_id) VALUES " + ($requests -join ',') + ";" +
        "INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, scope_tags, service_uri, created_at, modified_at) VALUES " + ($tokens -join ',')
    if ($Store.Provider -eq 'SQLite') { $sql = $sql -replace "'\\x00'::bytea", "x'00'" }
    Invoke-TestStoreSql $Store $sql | Out-Null
}
