# The shared store on PostgreSQL through the built module (about_AdeEnrollment, "Shared store"). Needs a server in
# $env:ADE_TEST_POSTGRES (build.ps1 Test and .ci/run start one; README, "The PostgreSQL leg"): without it these tests
# fail, they are never skipped.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 131
    if (-not $env:ADE_TEST_POSTGRES) {
        throw 'No PostgreSQL test server: set $env:ADE_TEST_POSTGRES (README, "The PostgreSQL leg"; build.ps1 Test starts one).'
    }
    function New-PgSchema {
        $name = 'ade_p_' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $parts = Get-TestPostgres
        [pscustomobject]@{
            Name = $name
            Password = $parts.Password
            User = $parts.Username
            # The connection string without the password: it comes from -Credential, -Password or PGPASSWORD.
            ConnectionString = "Host=$($parts.Host);Port=$($parts.Port);Database=$($parts.Database);Username=$($parts.Username);Search Path=$name"
            Uri = "postgresql://$($parts.Username)@$($parts.Host):$($parts.Port)/$($parts.Database)?Search%20Path=$name"
        }
    }

    $script:passphrase = ConvertTo-SecureString 'correct horse battery staple' -AsPlainText -Force
}

AfterAll {
    Disconnect-AdeStore
    Stop-AdeSimulator
}

Describe 'Connect-AdeStore -ConnectionString (PostgreSQL)' {
    BeforeEach {
        $script:pg = New-PgSchema
        Invoke-PgSql "CREATE SCHEMA $($pg.Name)" | Out-Null
    }

    AfterEach {
        Disconnect-AdeStore
        Invoke-PgSql "DROP SCHEMA IF EXISTS $($pg.Name) CASCADE" | Out-Null
    }

    It 'Connect-AdeStore without -Path opens the PostgreSQL store of $env:ADE_ENROLLMENT_STORE, not the per-user SQLite file' {
        $saved = $env:ADE_ENROLLMENT_STORE, $env:PGPASSWORD, $env:ADE_ENROLLMENT_STORE_KEY, $env:XDG_DATA_HOME
        try {
            $env:ADE_ENROLLMENT_STORE = $pg.ConnectionString
            $env:PGPASSWORD = $pg.Password
            $env:ADE_ENROLLMENT_STORE_KEY = 'correct horse battery staple'
            $env:XDG_DATA_HOME = Join-Path $TestDrive 'xdg-env-connect'
            $info = Connect-AdeStore -PassThru
            $info.Provider | Should -Be 'PostgreSQL'
            (Get-AdeStore).Provider | Should -Be 'PostgreSQL'
            Test-Path (Join-Path $env:XDG_DATA_HOME 'AdeEnrollment/ade.db') | Should -BeFalse # no empty local store beside it
        } finally {
            $env:ADE_ENROLLMENT_STORE, $env:PGPASSWORD, $env:ADE_ENROLLMENT_STORE_KEY, $env:XDG_DATA_HOME = $saved
        }
    }

    It 'a connection string given to -Path or -DestinationPath is refused, and no file is named after it (password and all)' {
        Push-Location $TestDrive
        try {
            $withPassword = "$($pg.ConnectionString);Password=$($pg.Password)"
            $err = { Connect-AdeStore -Path $withPassword -Key $passphrase -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
            $err.Exception.Message | Should -BeLike '*-ConnectionString*'
            $err.Exception.Message | Should -Not -Match ([regex]::Escape($pg.Password))
            Disconnect-AdeStore
            Connect-AdeStore -Path (Join-Path $TestDrive 'copy-source.db')
            { Copy-AdeStore -DestinationPath $withPassword -DestinationKey $passphrase -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,AdeEnrollment.Commands.CopyAdeStoreCommand'
            @(Get-ChildItem $TestDrive -Filter 'Host=*').Count | Should -Be 0
        } finally { Pop-Location; Disconnect-AdeStore }
    }

    It 'creates a store in an empty schema; Get-AdeStore shows provider, server, database, schema and keys, never the password' {
        $login = [pscredential]::new($pg.User, (ConvertTo-SecureString $pg.Password -AsPlainText -Force))
        $verbose = Connect-AdeStore -ConnectionString $pg.ConnectionString -Credential $login -Key $passphrase -PassThru -Verbose 4>&1
        $info = $verbose | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $info.Provider | Should -Be 'PostgreSQL'
        $info.SchemaVersion | Should -BeGreaterThan 0
        $info.KeyProtection | Should -Be 'Passphrase'
        $info.TokenCount | Should -Be 0
        $got = Get-AdeStore
        $got.Provider | Should -Be 'PostgreSQL'
        $got.Server | Should -Match '^127\.0\.0\.1:\d+$'
        $got.Database | Should -Be 'postgres'
        $got.Path | Should -BeLike 'postgresql://127.0.0.1:*'
        $shown = ($verbose | Out-String) + ($got | Format-List * | Out-String) + ($got | Out-String)
        $shown | Should -Not -Match ([regex]::Escape($pg.Password))
        Invoke-PgSql "SELECT version FROM $($pg.Name).ade_schema" | Should -Be $info.SchemaVersion
    }

    It 'takes a postgresql:// URI and the password from PGPASSWORD, and the same through $env:ADE_ENROLLMENT_STORE' {
        $saved = $env:PGPASSWORD, $env:ADE_ENROLLMENT_STORE, $env:ADE_ENROLLMENT_STORE_KEY
        try {
            $env:PGPASSWORD = $pg.Password
            Connect-AdeStore -ConnectionString $pg.Uri -Key $passphrase
            (Get-AdeStore).Provider | Should -Be 'PostgreSQL'
            Disconnect-AdeStore
            $env:ADE_ENROLLMENT_STORE = $pg.Uri
            $env:ADE_ENROLLMENT_STORE_KEY = 'correct horse battery staple'
            $info = Get-AdeStore
            $info.Provider | Should -Be 'PostgreSQL'
            $info.KeyProtection | Should -Be 'Passphrase'
        } finally {
            $env:PGPASSWORD, $env:ADE_ENROLLMENT_STORE, $env:ADE_ENROLLMENT_STORE_KEY = $saved
        }
    }

    It 'refuses a server store without a passphrase (StorePassphraseRequired) and creates nothing' {
        $saved = $env:ADE_ENROLLMENT_STORE_KEY
        try {
            $env:ADE_ENROLLMENT_STORE_KEY = $null
            { Connect-AdeStore -ConnectionString $pg.ConnectionString -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) } |
                Should -Throw -ErrorId 'StorePassphraseRequired,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        } finally { $env:ADE_ENROLLMENT_STORE_KEY = $saved }
        Invoke-PgSql "SELECT count(*) FROM pg_tables WHERE schemaname = '$($pg.Name)'" | Should -Be 0
    }

    It 'a wrong password is StoreAccessDenied and the error does not contain it' {
        $wrong = 'wrong-pw-' + [guid]::NewGuid().ToString('N')
        $err = $null
        try { Connect-AdeStore -ConnectionString $pg.ConnectionString -Password (ConvertTo-SecureString $wrong -AsPlainText -Force) -Key $passphrase -ErrorAction Stop }
        catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'StoreAccessDenied,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match $wrong
    }

    It 'a server that stops taking connections after the store was connected is StoreUnavailable (not StoreIoError "run again")' {
        # a database of its own: closing it to connections touches no other test's store
        $db = 'ade_pd_' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        Invoke-PgSql "CREATE DATABASE $db" | Out-Null
        try {
            $cs = ($pg.ConnectionString -replace 'Database=[^;]+', "Database=$db") -replace ';Search Path=[^;]+', ''   # its public schema
            Connect-AdeStore -ConnectionString $cs -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) -Key $passphrase
            @(Get-AdeToken).Count | Should -Be 0
            Invoke-PgSql "ALTER DATABASE $db ALLOW_CONNECTIONS false" | Out-Null
            Invoke-PgSql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" | Out-Null
            $err = $null
            try { Get-AdeToken -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'StoreUnavailable,AdeEnrollment.Commands.GetAdeTokenCommand'
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            ($err | Out-String) | Should -Not -Match ([regex]::Escape($pg.Password))
            Invoke-PgSql "ALTER DATABASE $db ALLOW_CONNECTIONS true" | Out-Null
            @(Get-AdeToken).Count | Should -Be 0 -Because 'the session goes on once the server takes connections again'
        } finally {
            Disconnect-AdeStore
            Invoke-PgSql "ALTER DATABASE $db ALLOW_CONNECTIONS true" | Out-Null
            Invoke-PgSql "DROP DATABASE IF EXISTS $db WITH (FORCE)" | Out-Null
        }
    }

    It 'a bad connection string is StoreConnectionStringInvalid without repeating its values' {
        { Connect-AdeStore -ConnectionString 'Host=db;Username=u;Port=secret-port-value' -Key $passphrase } |
            Should -Throw -ErrorId 'StoreConnectionStringInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand' -ExpectedMessage '*port*'
        $err = $null
        try { Connect-AdeStore -ConnectionString 'Host=db;Username=u;Port=secret-port-value' -Key $passphrase -ErrorAction Stop } catch { $err = $_ }
        $err.Exception.Message | Should -Not -Match 'secret-port-value'
    }

    It 'a password in a libpq-style or quoted connection string never becomes a location, a path or a file (<Case>)' -ForEach @(
        @{ Case = 'libpq pairs given to -ConnectionString'; Value = 'host=127.0.0.1 port=5432 dbname=ade password=Pw0rdSecret'; Variable = $false }
        @{ Case = 'the store variable without Host'; Value = 'Username=ade;Password=Pw0rdSecret;Database=ade'; Variable = $true }
        @{ Case = 'the store variable with a https URI'; Value = 'https://ade:Pw0rdSecret@db.contoso.example/ade'; Variable = $true }
    ) {
        $saved = $env:ADE_ENROLLMENT_STORE
        $before = @(Get-ChildItem -Recurse -Depth 2 -Force $TestDrive, $PWD -ErrorAction SilentlyContinue | Where-Object Name -Match 'Pw0rd').Count
        try {
            $err = $null
            if ($Variable) {
                Disconnect-AdeStore
                $env:ADE_ENROLLMENT_STORE = $Value
                try { Get-AdeToken -ErrorAction Stop } catch { $err = $_ }
            } else {
                try { Connect-AdeStore -ConnectionString $Value -Key $passphrase -ErrorAction Stop } catch { $err = $_ }
            }
            $err.FullyQualifiedErrorId | Should -BeLike 'StoreConnectionStringInvalid,*'
            ($err | Format-List * -Force | Out-String) + "$($err.TargetObject)" | Should -Not -Match 'Pw0rd'
            @(Get-ChildItem -Recurse -Depth 2 -Force $TestDrive, $PWD -ErrorAction SilentlyContinue | Where-Object Name -Match 'Pw0rd').Count | Should -Be $before
        } finally {
            $env:ADE_ENROLLMENT_STORE = $saved
            Disconnect-AdeStore
        }
    }

    It 'keeps token requests and tokens: New-AdeTokenRequest, New-AdeToken, Get-AdeToken, Set-AdeToken, Remove-AdeToken' {
        Connect-AdeStore -ConnectionString $pg.ConnectionString -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) -Key $passphrase
        $t = New-TestToken -Folder $TestDrive -Name 'PG Contoso'
        $t.Token.Name | Should -Be 'PG Contoso'
        (Get-AdeToken -Name 'pg contoso').Id | Should -Be $t.Token.Id
        (Get-AdeTokenRequest -Id $t.Request.Id).TokenName | Should -Be 'PG Contoso'
        Set-AdeToken -Token 'PG Contoso' -NewName 'PG Fabrikam' -ScopeTag 'Paris', 'Default'
        (Get-AdeToken).Name | Should -Be 'PG Fabrikam'
        (Get-AdeToken).ScopeTags | Should -Be @('Paris', 'Default')
        (Get-AdeStore).TokenCount | Should -Be 1
        Invoke-PgSql "SELECT count(*) FROM $($pg.Name).token" | Should -Be 1
        # The credentials are sealed: the consumer key never reaches the server in clear.
        Invoke-PgSql "SELECT count(*) FROM $($pg.Name).token WHERE position(convert_to('CK_', 'UTF8') in credentials) > 0" | Should -Be 0
        Remove-AdeToken -Token 'PG Fabrikam' -Confirm:$false
        Get-AdeToken | Should -BeNullOrEmpty
    }

    It 'loads Npgsql only in the module''s own AssemblyLoadContext' {
        Connect-AdeStore -ConnectionString $pg.ConnectionString -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) -Key $passphrase
        [AdeEnrollment.Loader.LoadContext]::Current.Assemblies | Where-Object { $_.GetName().Name -eq 'Npgsql' } | Should -Not -BeNullOrEmpty
        [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -eq 'Npgsql' } | Should -BeNullOrEmpty
    }

    It 'Set-AdeStore keeps the journal retention in the server store' {
        Connect-AdeStore -ConnectionString $pg.ConnectionString -Password (ConvertTo-SecureString $pg.Password -AsPlainText -Force) -Key $passphrase
        (Set-AdeStore -JournalRetentionDays 30 -PassThru).JournalRetentionDays | Should -Be 30
        (Get-AdeStore).JournalRetentionDays | Should -Be 30
        Invoke-PgSql "SELECT value FROM $($pg.Name).meta WHERE key = 'journal_retention_days'" | Should -Be '30'
    }
}
