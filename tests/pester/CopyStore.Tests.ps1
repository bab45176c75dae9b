# Copy-AdeStore through the built module (docs/Copy-AdeStore.md). The SQLite -> SQLite part needs no server; the
# PostgreSQL part uses $env:ADE_TEST_POSTGRES as SharedStore.Tests.ps1 does, and fails (never skips) without it.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 177
    $script:sourceKey = ConvertTo-SecureString 'source passphrase 1234' -AsPlainText -Force
    $script:destKey = ConvertTo-SecureString 'destination passphrase 99' -AsPlainText -Force

    function New-SeededStore([string] $Path) {
        Connect-AdeStore -Path $Path -Key $sourceKey
        $script:tokenName = 'Copy ' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        New-SimToken -Name $tokenName -Devices 3 -Folder (Split-Path $Path) | Out-Null
        New-AdeProfile -Token $tokenName -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        New-AdeProfile -Token $tokenName -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeDefaultProfile -Token $tokenName -Profile 'Kiosk' | Out-Null
    }

    function Get-ShownTokens { (Get-AdeToken | Sort-Object Name | ForEach-Object { "$($_.Name)|$($_.Id)|$($_.ExpiresAt)|$($_.Status)" }) -join ';' }
    function Get-ShownProfiles { (Get-AdeProfile | Sort-Object Name | ForEach-Object { "$($_.Name)|$($_.IsDefault)|$($_.Id)" }) -join ';' }
    function Get-Shown { [pscustomobject]@{ Tokens = Get-ShownTokens; Profiles = Get-ShownProfiles } }
}

AfterAll {
    Disconnect-AdeStore
    Stop-AdeSimulator
}

Describe 'Copy-AdeStore (SQLite)' {
    BeforeAll {
        $script:folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $folder | Out-Null
        New-SeededStore (Join-Path $folder 'source.db')
        $script:shown = Get-Shown
    }

    BeforeEach { Connect-AdeStore -Path (Join-Path $folder 'source.db') -Key $sourceKey }

    AfterAll { Disconnect-AdeStore }

    It 'copies into a new file; the copy shows the same tokens and profiles, and its token still reaches Apple' {
        $dest = Join-Path $folder 'copy.db'
        $tables = Copy-AdeStore -DestinationPath $dest -DestinationKey $destKey
        $tables.Table | Should -Contain 'device'
        $tables | ForEach-Object { $_.Verified | Should -BeTrue }
        ($tables | Where-Object Table -eq 'token').Rows | Should -Be 1
        ($tables | Where-Object Table -eq 'profile').Rows | Should -Be 2
        $tables[0].PSObject.TypeNames[0] | Should -Be 'AdeEnrollment.Engine.Model.AdeStoreCopyTable'
        ($tables | Out-String) | Should -Match 'Verified'

        Connect-AdeStore -Path $dest -Key $destKey
        (Get-Shown).Tokens | Should -Be $shown.Tokens
        (Get-Shown).Profiles | Should -Be $shown.Profiles
        # The re-encrypted credentials open under the destination's key: the first sync signs its requests with them.
        (Sync-AdeDevice -Token $tokenName).Status | Should -Be 'Succeeded'
        (Get-AdeDevice -Token $tokenName).Count | Should -Be 3
    }

    It '-PassThru adds the destination store last' {
        $out = Copy-AdeStore -DestinationPath (Join-Path $folder 'pass.db') -PassThru
        $out[-1].PSObject.TypeNames[0] | Should -Be 'AdeEnrollment.Engine.Model.AdeStoreInfo'
        $out[-1].TokenCount | Should -Be 1
        $out[-1].KeyProtection | Should -Not -Be 'Passphrase'
    }

    It '-WhatIf writes nothing' {
        $dest = Join-Path $folder 'whatif.db'
        Copy-AdeStore -DestinationPath $dest -WhatIf | Should -BeNullOrEmpty
        Test-Path $dest | Should -BeFalse
        Test-Path "$dest.key" | Should -BeFalse
    }

    It 'refuses a destination that holds rows, and leaves it unchanged' {
        $dest = Join-Path $folder 'full.db'
        Copy-AdeStore -DestinationPath $dest -DestinationKey $destKey | Out-Null
        $before = [IO.File]::ReadAllBytes($dest)
        { Copy-AdeStore -DestinationPath $dest -DestinationKey $destKey } |
            Should -Throw -ErrorId 'StoreCopyDestinationNotEmpty,AdeEnrollment.Commands.CopyAdeStoreCommand'
        Connect-AdeStore -Path $dest -Key $destKey
        (Get-Shown).Tokens | Should -Be $shown.Tokens
        (Get-AdeStore).TokenCount | Should -Be 1
    }

    It 'refuses the store in use as its destination, also through a link to it' {
        { Copy-AdeStore -DestinationPath (Get-AdeStore).Path -DestinationKey $sourceKey } |
            Should -Throw -ErrorId 'StoreCopySameStore,AdeEnrollment.Commands.CopyAdeStoreCommand'
        if (-not $IsWindows) {
            $link = Join-Path $folder 'link.db'
            New-Item -ItemType SymbolicLink -Path $link -Target (Get-AdeStore).Path | Out-Null
            { Copy-AdeStore -DestinationPath $link -DestinationKey $sourceKey -Confirm:$false } |
                Should -Throw -ErrorId 'StoreCopySameStore,AdeEnrollment.Commands.CopyAdeStoreCommand'
            Remove-Item $link
        }
    }

    It 'refuses a wrong passphrase for an existing destination' {
        $dest = Join-Path $folder 'keyed.db'
        Connect-AdeStore -Path $dest -Key $destKey
        Connect-AdeStore -Path (Join-Path $folder 'source.db') -Key $sourceKey
        { Copy-AdeStore -DestinationPath $dest -DestinationKey (ConvertTo-SecureString 'not the right passphrase' -AsPlainText -Force) } |
            Should -Throw -ErrorId 'StoreKeyInvalid,AdeEnrollment.Commands.CopyAdeStoreCommand'
    }

    It 'warns when a sync held its token''s lease as the store was copied' {
        $id = (Get-AdeToken -Name $tokenName).Id
        $until = [DateTimeOffset]::UtcNow.AddMinutes(10).ToUnixTimeMilliseconds()
        Invoke-StoreSql "INSERT INTO sync_state (token_id, lease_id, lease_expires_at) VALUES ('$id', 'another-process', $until)" | Out-Null
        try {
            Copy-AdeStore -DestinationPath (Join-Path $folder 'mid-sync.db') -WarningVariable w 3>$null | Out-Null
            "$w" | Should -BeLike "A sync of 1 token ('$tokenName') was under way when the store was copied*Get-AdeSyncStatus*"
        } finally { Invoke-StoreSql "DELETE FROM sync_state WHERE token_id = '$id'" | Out-Null }
        Copy-AdeStore -DestinationPath (Join-Path $folder 'quiet.db') -WarningVariable quiet 3>$null | Out-Null
        $quiet | Should -BeNullOrEmpty
    }
}

Describe 'Copy-AdeStore (PostgreSQL)' {
    BeforeAll {
        if (-not $env:ADE_TEST_POSTGRES) {
            throw 'No PostgreSQL test server: set $env:ADE_TEST_POSTGRES (README, "The PostgreSQL leg"; build.ps1 Test starts one).'
        }
        $script:npgsqlConnection = [AdeEnrollment.Loader.LoadContext]::Current.LoadFromAssemblyName([Reflection.AssemblyName]::new('Npgsql')).GetType('Npgsql.NpgsqlConnection', $true)
        function Invoke-PgAdmin([string] $Sql) {
            $c = $script:npgsqlConnection::new($env:ADE_TEST_POSTGRES)
            try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
        }
        $parts = @{}
        foreach ($pair in $env:ADE_TEST_POSTGRES -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $parts[$k.Trim()] = $v } }
        $script:pgPassword = ConvertTo-SecureString $parts.Password -AsPlainText -Force
        $script:pgPlain = $parts.Password
        $script:pgSchema = 'ade_c_' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $script:pgConnection = "Host=$($parts.Host);Port=$($parts.Port);Database=$($parts.Database);Username=$($parts.Username);Search Path=$pgSchema"
        Invoke-PgAdmin "CREATE SCHEMA $pgSchema" | Out-Null
        $script:folder = Join-Path $TestDrive 'pg'
        New-Item -ItemType Directory -Path $folder | Out-Null
        New-SeededStore (Join-Path $folder 'source.db')
        $script:shown = Get-Shown
    }

    AfterAll {
        Disconnect-AdeStore
        Invoke-PgAdmin "DROP SCHEMA IF EXISTS $pgSchema CASCADE" | Out-Null
    }

    It 'moves the store to PostgreSQL and back; both show the same tokens, and the checksums agree' {
        $verbose = Copy-AdeStore -DestinationConnectionString $pgConnection -Password $pgPassword -DestinationKey $destKey -Verbose 4>&1
        $there = $verbose | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $there | ForEach-Object { $_.Verified | Should -BeTrue }
        ($verbose | Out-String) | Should -Not -Match ([regex]::Escape($pgPlain))
        Invoke-PgAdmin "SELECT count(*) FROM $pgSchema.profile" | Should -Be 2

        Connect-AdeStore -ConnectionString $pgConnection -Password $pgPassword -Key $destKey
        Get-ShownTokens | Should -Be $shown.Tokens
        Get-ShownProfiles | Should -Be $shown.Profiles

        $back = Copy-AdeStore -DestinationPath (Join-Path $folder 'back.db')
        ($back | ForEach-Object { "$($_.Table)=$($_.Rows)/$($_.Checksum)" }) -join ';' |
            Should -Be (($there | ForEach-Object { "$($_.Table)=$($_.Rows)/$($_.Checksum)" }) -join ';')
        Connect-AdeStore -Path (Join-Path $folder 'back.db')
        (Get-Shown).Tokens | Should -Be $shown.Tokens
        (Get-Shown).Profiles | Should -Be $shown.Profiles
    }

    It 'refuses the server store once it holds the copy, and names the table' {
        Connect-AdeStore -Path (Join-Path $folder 'source.db') -Key $sourceKey
        { Copy-AdeStore -DestinationConnectionString $pgConnection -Password $pgPassword -DestinationKey $destKey } |
            Should -Throw -ErrorId 'StoreCopyDestinationNotEmpty,AdeEnrollment.Commands.CopyAdeStoreCommand'
        Invoke-PgAdmin "SELECT count(*) FROM $pgSchema.token" | Should -Be 1
    }

    It 'needs a passphrase for the server store' {
        Connect-AdeStore -Path (Join-Path $folder 'source.db') -Key $sourceKey
        { Copy-AdeStore -DestinationConnectionString $pgConnection -Password $pgPassword } |
            Should -Throw -ErrorId 'StorePassphraseRequired,AdeEnrollment.Commands.CopyAdeStoreCommand'
    }
}
