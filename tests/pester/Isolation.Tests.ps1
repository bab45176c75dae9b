# Dependency isolation: the module's dependencies load in its own AssemblyLoadContext, so "another module" that
# loaded other versions of BouncyCastle and Microsoft.Data.Sqlite (with its own SQLitePCLRaw and native SQLite)
# into PowerShell's default context keeps working — before or after this module is imported — and so does the module.
# Each order runs in a fresh pwsh: assemblies cannot be unloaded.
BeforeDiscovery {
    $script:orders = @(@{ Order = 'OtherFirst' }, @{ Order = 'ModuleFirst' })
}

BeforeAll {
    # The NuGet cache holding Pester also holds the older packages (restored by the test project's PackageDownload).
    $script:packages = (Resolve-Path (Join-Path (Split-Path $env:ADE_TEST_PESTER) '../../..')).Path
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $script:child = Join-Path $TestDrive 'isolation.ps1'
    Set-Content $script:child @'
param([string] $Order, [string] $Packages, [string] $Work, [string] $ResultPath)
$ErrorActionPreference = 'Stop'
$result = [ordered]@{}
$rid = ($IsWindows ? 'win' : $IsMacOS ? 'osx' : 'linux') + '-' + [Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant()
$nativeFile = $IsWindows ? 'e_sqlite3.dll' : $IsMacOS ? 'libe_sqlite3.dylib' : 'libe_sqlite3.so'

# BouncyCastle keeps assembly version 2.0.0.0 across 2.x: the file's product version tells the package version.
function Get-FileVersion([Reflection.Assembly] $Assembly) { [Diagnostics.FileVersionInfo]::GetVersionInfo($Assembly.Location).ProductVersion }

function Import-OtherModule {
    # What another module brings: BouncyCastle 2.4.0, Microsoft.Data.Sqlite 9.0.0 on SQLitePCLRaw 2.1.11.
    Add-Type -Path "$Packages/bouncycastle.cryptography/2.4.0/lib/net6.0/BouncyCastle.Cryptography.dll"
    Add-Type -Path "$Packages/sqlitepclraw.core/2.1.11/lib/netstandard2.0/SQLitePCLRaw.core.dll"
    $provider = [Reflection.Assembly]::LoadFrom("$Packages/sqlitepclraw.provider.e_sqlite3/2.1.11/lib/net6.0/SQLitePCLRaw.provider.e_sqlite3.dll")
    Add-Type -Path "$Packages/sqlitepclraw.bundle_e_sqlite3/2.1.11/lib/netstandard2.0/SQLitePCLRaw.batteries_v2.dll"
    Add-Type -Path "$Packages/microsoft.data.sqlite.core/9.0.0/lib/net8.0/Microsoft.Data.Sqlite.dll"
    $native = "$Packages/sqlitepclraw.lib.e_sqlite3/2.1.11/runtimes/$rid/native/$nativeFile"
    [Runtime.InteropServices.NativeLibrary]::SetDllImportResolver($provider, [Runtime.InteropServices.DllImportResolver] {
            param($name, $assembly, $searchPath)
            if ($name -eq 'e_sqlite3') { [Runtime.InteropServices.NativeLibrary]::Load($native) } else { [IntPtr]::Zero }
        }.GetNewClosure())
}

function Test-OtherModule([string] $Label) {
    # PowerShell's [type] literals see the default context only: the other module's versions.
    $c = [Microsoft.Data.Sqlite.SqliteConnection]::new('Data Source=:memory:')
    $c.Open()
    $cmd = $c.CreateCommand(); $cmd.CommandText = 'select sqlite_version()'
    $result["$Label.OtherSqliteVersion"] = [string]$cmd.ExecuteScalar()
    $c.Dispose()
    $result["$Label.OtherSqliteAssembly"] = [Microsoft.Data.Sqlite.SqliteConnection].Assembly.GetName().Version.ToString()
    $digest = [Org.BouncyCastle.Crypto.Digests.Sha256Digest]::new()
    $bytes = [Text.Encoding]::ASCII.GetBytes('abc'); $digest.BlockUpdate($bytes, 0, 3)
    $hash = [byte[]]::new(32); [void]$digest.DoFinal($hash, 0)
    $result["$Label.OtherBouncyCastle"] = Get-FileVersion ([Org.BouncyCastle.Crypto.Digests.Sha256Digest].Assembly)
    $result["$Label.OtherSha256"] = [Convert]::ToHexString($hash)
}

function Test-Module([string] $Label) {
    Import-Module AdeEnrollment, AdeEnrollment.Simulator
    Connect-AdeStore -Path (Join-Path $Work "$Label.db")
    $sim = Start-AdeSimulator -Seed 5
    $pem = Join-Path $Work "$Label.pem"; $p7m = Join-Path $Work "$Label.p7m"
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    New-AdeSimServer -Name "Iso $Label" -PublicKeyPath $pem -OutFile $p7m | Out-Null   # BouncyCastle: encrypts
    New-AdeToken -Request $request -Path $p7m -AppleId 'a@contoso.example' -ServiceUri $sim.Uri | Out-Null  # decrypts
    Add-AdeSimDevice -Server "Iso $Label" -Count 4 | Out-Null
    $result["$Label.ModuleAdded"] = (Sync-AdeDevice -Token "Iso $Label").Added                            # SQLite
    $result["$Label.ModuleDevices"] = @(Get-AdeDevice -Token "Iso $Label").Count
    Stop-AdeSimulator
    $inContext = [AdeEnrollment.Loader.LoadContext]::Current.Assemblies
    $result["$Label.ModuleBouncyCastle"] = Get-FileVersion ($inContext | Where-Object { $_.GetName().Name -eq 'BouncyCastle.Cryptography' })
    $result["$Label.ModuleSqlite"] = ($inContext | Where-Object { $_.GetName().Name -eq 'Microsoft.Data.Sqlite' }).GetName().Version.ToString()
}

if ($Order -eq 'OtherFirst') {
    Import-OtherModule; Test-OtherModule 'Before'; Test-Module 'After'; Test-OtherModule 'After'
} else {
    Test-Module 'Before'; Import-OtherModule; Test-OtherModule 'After'; Test-Module 'After'
}
$result['DefaultContextHasModuleCode'] = @([Runtime.Loader.AssemblyLoadContext]::Default.Assemblies |
        Where-Object { $_.GetName().Name -in 'AdeEnrollment', 'AdeEnrollment.Engine', 'Polly.Core' }).Count
$result | ConvertTo-Json | Set-Content $ResultPath
'@
}

Describe 'Dependency isolation (<Order>)' -ForEach $orders {
    BeforeAll {
        $work = Join-Path $TestDrive $Order
        New-Item -ItemType Directory $work | Out-Null
        $resultPath = Join-Path $work 'result.json'
        $errors = & $pwsh -NoProfile -NonInteractive -File $child -Order $Order -Packages $packages -Work $work -ResultPath $resultPath 2>&1
        $script:r = if (Test-Path $resultPath) { Get-Content -Raw $resultPath | ConvertFrom-Json -AsHashtable } else { throw "The child pwsh failed: $errors" }
    }

    It 'the other module sees its own versions and works' {
        $r['After.OtherSqliteAssembly'] | Should -BeLike '9.0.0*'
        $r['After.OtherBouncyCastle'] | Should -BeLike '2.4.0*'
        $r['After.OtherSqliteVersion'] | Should -Match '^3\.\d+'
        $r['After.OtherSha256'] | Should -Be 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'
    }

    It 'the module sees its own versions and works' {
        foreach ($label in 'Before', 'After') {
            if ($r.ContainsKey("$label.ModuleAdded")) {
                $r["$label.ModuleAdded"] | Should -Be 4
                $r["$label.ModuleDevices"] | Should -Be 4
                $r["$label.ModuleBouncyCastle"] | Should -BeLike '2.7.0*'
                $r["$label.ModuleSqlite"] | Should -BeLike '11.0.0*'
            }
        }
        @($r.Keys -like '*.ModuleAdded').Count | Should -BeGreaterOrEqual 1
    }

    It 'no module code sits in PowerShell''s default load context' {
        $r['DefaultContextHasModuleCode'] | Should -Be 0
    }
}
