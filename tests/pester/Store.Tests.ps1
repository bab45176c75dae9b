BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    $script:sim = Start-AdeSimulator -Seed 98
}

AfterAll {
    Stop-AdeSimulator
}

Describe 'Connect-AdeStore and Get-AdeStore' {
    It 'creates the missing folders of a new store''s path readable by the owner only, every level' {
        $top = Join-Path $TestDrive 'private'
        Connect-AdeStore -Path (Join-Path $top 'sub/ade.db')
        if (-not $IsWindows) { # Unix permissions; on Windows the store lives in the per-user profile folder
            foreach ($folder in $top, (Join-Path $top 'sub')) { [int](Get-Item $folder).UnixFileMode | Should -Be ([Convert]::ToInt32('700', 8)) }
        }
        (Get-AdeStore).Path | Should -Be (Join-Path $top 'sub/ade.db')
    }

    It 'creates a new store with 0600 files, WAL and the current schema' {
        $path = Join-Path $TestDrive 'new.db'
        $info = Connect-AdeStore -Path $path -PassThru
        $info.Path | Should -Be $path
        $info.SchemaVersion | Should -BeGreaterThan 0
        $info.TokenCount | Should -Be 0
        $info.KeyProtection | Should -Be $(if ($IsWindows) { 'Dpapi' } else { 'KeyFile' })
        if (-not $IsWindows) {
            [int](Get-Item $path).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
            [int](Get-Item "$path.key").UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
        }
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$path;Pooling=False")
        $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = 'PRAGMA journal_mode'
        $cmd.ExecuteScalar() | Should -Be 'wal'
        $c.Dispose()
    }

    It 'Get-AdeStore reports the store in use and its counts' {
        Connect-AdeStore -Path (Join-Path $TestDrive 'counts.db')
        New-TestToken -Folder $TestDrive | Out-Null
        $info = Get-AdeStore
        $info.Path | Should -Be (Join-Path $TestDrive 'counts.db')
        $info.Exists | Should -BeTrue
        $info.TokenCount | Should -Be 1
        $info.TokenRequestCount | Should -Be 1
    }

    It 'Get-AdeStore describes a store that does not exist without creating it (Exists = $false)' {
        $path = Join-Path $TestDrive "missing-$([guid]::NewGuid().ToString('N')).db"
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $env:ADE_ENROLLMENT_STORE = $path
            Disconnect-AdeStore
            $info = Get-AdeStore
            $info.Exists | Should -BeFalse
            $info.Path | Should -Be $path
            $info.TokenCount | Should -Be 0
            Test-Path $path | Should -BeFalse
            Test-Path "$path.key" | Should -BeFalse
            # The first cmdlet that works with the store creates it; then Get-AdeStore describes it.
            Get-AdeToken | Should -BeNullOrEmpty
            Test-Path $path | Should -BeTrue
            $now = Get-AdeStore
            $now.Exists | Should -BeTrue
            $now.SchemaVersion | Should -BeGreaterThan 0
        } finally { $env:ADE_ENROLLMENT_STORE = $saved }
    }

    It 'Disconnect-AdeStore goes back from the connected store to the default store' {
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $env:ADE_ENROLLMENT_STORE = Join-Path $TestDrive 'default-after-disconnect.db'
            Connect-AdeStore -Path (Join-Path $TestDrive 'chosen.db')
            (Get-AdeStore).Path | Should -Be (Join-Path $TestDrive 'chosen.db')
            Disconnect-AdeStore -Verbose 4>&1 | Out-String | Should -BeLike '*chosen.db*'
            (Get-AdeStore).Path | Should -Be $env:ADE_ENROLLMENT_STORE
            Disconnect-AdeStore # nothing connected: no error
            (Get-AdeStore).Path | Should -Be $env:ADE_ENROLLMENT_STORE
        } finally { $env:ADE_ENROLLMENT_STORE = $saved }
    }

    It 'a leading ~ in $env:ADE_ENROLLMENT_STORE is the home folder, as in -Path (it made a folder named ~)' {
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            Disconnect-AdeStore
            $env:ADE_ENROLLMENT_STORE = '~/ade-env-home-test.db'
            (Get-AdeStore).Path | Should -Be (Join-Path ([Environment]::GetFolderPath('UserProfile')) 'ade-env-home-test.db')
            (Get-AdeStore).Exists | Should -BeFalse # described, not created
        } finally { $env:ADE_ENROLLMENT_STORE = $saved }
    }

    It 'a connected store whose file was deleted is StoreDeleted, not a phantom; the environment''s store is created again' -Skip:$IsWindows {
        # (Windows does not let an open store file be deleted)
        $saved = $env:ADE_ENROLLMENT_STORE
        $folder = Join-Path $TestDrive "gone-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory $folder | Out-Null
        try {
            $env:ADE_ENROLLMENT_STORE = Join-Path $folder 'env.db'
            Connect-AdeStore -Path (Join-Path $folder 'chosen.db')
            New-TestToken -Folder $folder | Out-Null
            Remove-Item (Join-Path $folder 'chosen.db*')
            $err = { Get-AdeToken -ErrorAction Stop } | Should -Throw -ErrorId 'StoreDeleted,AdeEnrollment.Commands.GetAdeTokenCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err.Exception.Message | Should -Match 'Disconnect-AdeStore'
            $info = Get-AdeStore -WarningVariable w 3>$null
            $info.Exists | Should -BeFalse
            "$w" | Should -Match 'is gone'
            Test-Path (Join-Path $folder 'chosen.db') | Should -BeFalse # nothing was created again behind the user's back
            Disconnect-AdeStore
            @(Get-AdeToken).Count | Should -Be 0 # the environment's store, new
            New-TestToken -Folder $folder | Out-Null
            Remove-Item (Join-Path $folder 'env.db*')
            @(Get-AdeToken).Count | Should -Be 0 # deleted by hand: created again where the environment says
            Test-Path (Join-Path $folder 'env.db') | Should -BeTrue
        } finally { $env:ADE_ENROLLMENT_STORE = $saved; Disconnect-AdeStore }
    }

    It '-Debug in a non-interactive run shows the verbose lines as debug lines instead of failing on a prompt' {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $path = Join-Path $TestDrive "debug-$([guid]::NewGuid().ToString('N')).db"
        $out = & $pwsh -NoProfile -NonInteractive -Command "Get-AdeStore -Debug | Out-Null; Connect-AdeStore -Path '$path'; Disconnect-AdeStore -Debug; Start-AdeSimulator -Debug | Out-Null; Stop-AdeSimulator -Debug; if (`$error.Count) { `$error[0].FullyQualifiedErrorId; exit 1 }" 5>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $out
        $out | Should -Match 'DEBUG: No store exists at'
        $out | Should -Match 'DEBUG: Disconnected from'
        $out | Should -Match 'DEBUG: Stopped the ADE simulator'
    }

    It 'resolves a relative -Path against the PowerShell location' {
        Push-Location $TestDrive
        try {
            (Connect-AdeStore -Path 'relative.db' -PassThru).Path | Should -Be (Join-Path $TestDrive 'relative.db')
        } finally { Pop-Location }
    }

    It 'uses $env:ADE_ENROLLMENT_STORE by default' {
        $path = Join-Path $TestDrive 'fromenv.db'
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $env:ADE_ENROLLMENT_STORE = $path
            (Connect-AdeStore -PassThru).Path | Should -Be $path
            Test-Path $path | Should -BeTrue
        } finally { $env:ADE_ENROLLMENT_STORE = $saved }
    }

    It 'refuses a file that is not a store (StoreInvalid) and leaves it unchanged' {
        $path = Join-Path $TestDrive 'notes.txt'
        Set-Content $path 'just some text'
        $before = (Get-FileHash $path).Hash
        { Connect-AdeStore -Path $path } | Should -Throw -ErrorId 'StoreInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        (Get-FileHash $path).Hash | Should -Be $before
    }

    It 'refuses a store written by a newer schema (StoreSchemaTooNew) and leaves it unchanged' {
        $path = Join-Path $TestDrive 'future.db'
        Connect-AdeStore -Path $path
        Connect-AdeStore -Path (Join-Path $TestDrive 'other.db') # release the first
        (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::ClearAllPools()
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$path;Pooling=False")
        $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = 'PRAGMA user_version = 999'; $null = $cmd.ExecuteNonQuery(); $c.Dispose()
        $before = (Get-FileHash $path).Hash
        $err = { Connect-AdeStore -Path $path } | Should -Throw -ErrorId 'StoreSchemaTooNew,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
        $err.Exception.Message | Should -Match '999'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        (Get-FileHash $path).Hash | Should -Be $before
    }

    It 'an upgrade step that meets tables changed by hand is StoreUpgradeFailed, and the store keeps its version' {
        $path = Join-Path $TestDrive 'mended.db'
        Connect-AdeStore -Path $path
        $latest = (Get-AdeStore).SchemaVersion
        Connect-AdeStore -Path (Join-Path $TestDrive 'other.db') # release the first
        (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::ClearAllPools()
        # the version says the last step is owed, but its column is already there
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$path;Pooling=False")
        $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = "PRAGMA user_version = $($latest - 1)"; $null = $cmd.ExecuteNonQuery(); $c.Dispose()
        $err = { Connect-AdeStore -Path $path } | Should -Throw -ErrorId 'StoreUpgradeFailed,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        $err.Exception.Message | Should -BeLike "*schema version $($latest - 1); bringing it to version $latest failed*restore the store together with its key file*"
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$path;Pooling=False;Mode=ReadOnly")
        $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = 'PRAGMA user_version'; $version = $cmd.ExecuteScalar(); $c.Dispose()
        $version | Should -Be ($latest - 1)
        # a scheduled health check on that store fails its Store check (no error)
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $env:ADE_ENROLLMENT_STORE = $path
            Disconnect-AdeStore
            $check = Test-AdeHealth -ErrorVariable e
            $e | Should -BeNullOrEmpty
            ($check.Check, $check.Status, $check.Remedy) | Should -Be @('Store', 'Fail', 'Restore the store file and its key file from a backup')
        } finally { $env:ADE_ENROLLMENT_STORE = $saved; Disconnect-AdeStore }
    }

    It 'Test-AdeHealth fails the Store check of a store it cannot open, and of a store without tokens; -Quiet is $false' {
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $future = Join-Path $TestDrive "future-$([guid]::NewGuid().ToString('N')).db"
            Connect-AdeStore -Path $future
            Disconnect-AdeStore
            (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::ClearAllPools()
            $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$future;Pooling=False")
            $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = 'PRAGMA user_version = 999'; $null = $cmd.ExecuteNonQuery(); $c.Dispose()
            $env:ADE_ENROLLMENT_STORE = $future
            $check = Test-AdeHealth -ErrorVariable e
            $e | Should -BeNullOrEmpty
            ($check.Check, $check.Status) | Should -Be @('Store', 'Fail')
            $check.Detail | Should -Match 'schema version 999'
            $check.Remedy | Should -BeLike 'Update-Module*'
            Test-AdeHealth -Quiet | Should -BeFalse
            ('x', 'y' | Test-AdeHealth).Count | Should -Be 1 # once, not per piped token
            $typo = Join-Path $TestDrive "typo-$([guid]::NewGuid().ToString('N'))/ade.db" # a mistyped path: the check does not create it
            $env:ADE_ENROLLMENT_STORE = $typo
            $missing = Test-AdeHealth -Token 'Contoso*' -ErrorVariable e
            $e | Should -BeNullOrEmpty
            ($missing.Check, $missing.Status) | Should -Be @('Store', 'Fail')
            $missing.Detail | Should -BeLike "There is no store at '$typo'*"
            Test-AdeHealth -Quiet | Should -BeFalse
            Test-Path (Split-Path $typo) | Should -BeFalse -Because 'a health check creates no folder, store or key file'
            $env:ADE_ENROLLMENT_STORE = Join-Path $TestDrive "empty-$([guid]::NewGuid().ToString('N')).db"
            Get-AdeToken | Out-Null # another cmdlet creates the environment's store on first use
            $empty = Test-AdeHealth
            ($empty.Check, $empty.Status) | Should -Be @('Store', 'Fail')
            $empty.Detail | Should -Match 'holds no ADE token'
            Test-AdeHealth -Quiet | Should -BeFalse
            (Test-AdeHealth -Token 'Contoso*').Status | Should -Be 'Fail' # a nightly check that names its tokens too
            Test-AdeHealth -Token 'Contoso EU' -Quiet -ErrorAction SilentlyContinue | Should -BeFalse # TokenNotFound is no verdict of health
        } finally { $env:ADE_ENROLLMENT_STORE = $saved; Disconnect-AdeStore }
    }

    It 'after a failed Connect-AdeStore with no store connected, cmdlets refuse (StoreNotConnected) instead of using the environment''s store' {
        $saved = $env:ADE_ENROLLMENT_STORE
        try {
            $shared = Join-Path $TestDrive "shared-$([guid]::NewGuid().ToString('N')).db"
            $key = ConvertTo-SecureString 'correct horse battery staple' -AsPlainText -Force
            Connect-AdeStore -Path $shared -Key $key
            Disconnect-AdeStore
            $fallback = Join-Path $TestDrive "fallback-$([guid]::NewGuid().ToString('N')).db"
            $env:ADE_ENROLLMENT_STORE = $fallback
            # a scheduled script: the connect fails, and the next statements run on
            { Connect-AdeStore -Path $shared -Key (ConvertTo-SecureString 'not the passphrase' -AsPlainText -Force) } |
                Should -Throw -ErrorId 'StoreKeyInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
            $err = { Get-AdeToken -ErrorAction Stop } | Should -Throw -ErrorId 'StoreNotConnected,AdeEnrollment.Commands.GetAdeTokenCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err.Exception.Message | Should -BeLike "*Connect-AdeStore failed for '$shared' (StoreKeyInvalid)*Disconnect-AdeStore*"
            { Get-AdeStore } | Should -Throw -ErrorId 'StoreNotConnected,AdeEnrollment.Commands.GetAdeStoreCommand'
            $health = Test-AdeHealth
            ($health.Check, $health.Status, $health.Remedy) | Should -Be @('Store', 'Fail', 'Disconnect-AdeStore, or Connect-AdeStore -Path <store>')
            Test-Path $fallback | Should -BeFalse -Because 'no store was created where the environment points'
            # a connect that works ends it; so does Disconnect-AdeStore (back to the environment's store)
            Connect-AdeStore -Path $shared -Key $key
            (Get-AdeStore).Path | Should -Be $shared
            Disconnect-AdeStore
            { Connect-AdeStore -Path $shared } | Should -Throw
            Disconnect-AdeStore
            # a path PowerShell cannot resolve fails the connect just as well
            { Connect-AdeStore -Path 'nosuchdrive:/ade.db' } | Should -Throw
            $err = { Get-AdeStore } | Should -Throw -ErrorId 'StoreNotConnected,AdeEnrollment.Commands.GetAdeStoreCommand' -PassThru
            $err.Exception.Message | Should -BeLike "*Connect-AdeStore failed for 'nosuchdrive:/ade.db' (DriveNotFound*"
            Disconnect-AdeStore
            (Get-AdeToken).Count | Should -Be 0
            Test-Path $fallback | Should -BeTrue
        } finally { $env:ADE_ENROLLMENT_STORE = $saved; Disconnect-AdeStore }
    }

    It 'a failed Connect-AdeStore keeps the store connected before it' {
        $first = Join-Path $TestDrive "kept-$([guid]::NewGuid().ToString('N')).db"
        Connect-AdeStore -Path $first
        { Connect-AdeStore -Path $TestDrive } | Should -Throw -ErrorId 'StoreInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        (Get-AdeStore).Path | Should -Be $first
    }

    It 'opens a passphrase store only with its passphrase' {
        $path = Join-Path $TestDrive 'shared.db'
        $key = ConvertTo-SecureString 'correct horse battery staple' -AsPlainText -Force
        (Connect-AdeStore -Path $path -Key $key -PassThru).KeyProtection | Should -Be 'Passphrase'
        Test-Path "$path.key" | Should -BeFalse
        $wrong = ConvertTo-SecureString 'wrong' -AsPlainText -Force
        { Connect-AdeStore -Path $path -Key $wrong } | Should -Throw -ErrorId 'StoreKeyInvalid,AdeEnrollment.Commands.ConnectAdeStoreCommand'
        $saved = $env:ADE_ENROLLMENT_STORE_KEY
        try {
            $env:ADE_ENROLLMENT_STORE_KEY = $null
            $err = { Connect-AdeStore -Path $path } | Should -Throw -ErrorId 'StoreKeyKindMismatch,AdeEnrollment.Commands.ConnectAdeStoreCommand' -PassThru
        } finally { $env:ADE_ENROLLMENT_STORE_KEY = $saved }
        $err.Exception.Message | Should -BeLike '*is protected by a passphrase*'
        $err.Exception.Message | Should -Not -BeLike '*key file was given*'
        $err.Exception.Message | Should -BeLike '*-Key*'
        $err.Exception.Message | Should -BeLike '*$env:ADE_ENROLLMENT_STORE_KEY*'
        $saved = $env:ADE_ENROLLMENT_STORE_KEY
        try {
            $env:ADE_ENROLLMENT_STORE_KEY = 'correct horse battery staple'
            (Connect-AdeStore -Path $path -PassThru).KeyProtection | Should -Be 'Passphrase'
        } finally { $env:ADE_ENROLLMENT_STORE_KEY = $saved }
    }
}
