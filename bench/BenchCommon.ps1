# Helpers for one benchmark scenario process (bench/Invoke-Scenario.ps1). Dot-source.
Set-StrictMode -Version Latest

function Start-BenchPwsh {
    <#
    .SYNOPSIS
        Starts a bench script in a pwsh process of its own, stdin and stdout redirected (the environment is this one's).
    #>
    param([Parameter(Mandatory)] [string] $Script, [string[]] $Arguments = @())
    $psi = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    # Under `dotnet pwsh` the process is dotnet itself: start pwsh.dll through the same host; else pwsh directly.
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in @('-NoProfile', '-NonInteractive', '-File', $Script) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    # When this scenario runs under dotnet-trace, the child must not wait for the tracer too.
    [void]$psi.Environment.Remove('DOTNET_DiagnosticPorts')
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    [Diagnostics.Process]::Start($psi)
}

function Start-SimHost {
    <#
    .SYNOPSIS
        Starts bench/SimHost.ps1 in a pwsh process of its own and a simulator in it; returns the host handle.
    #>
    param([int] $Seed = 4242)
    $process = Start-BenchPwsh -Script (Join-Path $PSScriptRoot 'SimHost.ps1')
    $simHost = [pscustomobject]@{ Process = $process; Uri = $null }
    $simHost.Uri = [uri](Invoke-SimHost $simHost @{ op = 'start'; seed = $Seed }).uri
    $simHost
}

function Invoke-SimHost {
    param([Parameter(Mandatory)] $SimHost, [Parameter(Mandatory)] [hashtable] $Command)
    $SimHost.Process.StandardInput.WriteLine(($Command | ConvertTo-Json -Compress -Depth 5))
    $SimHost.Process.StandardInput.Flush()
    while ($true) {
        $line = $SimHost.Process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The simulator host exited (exit code $(if ($SimHost.Process.HasExited) { $SimHost.Process.ExitCode }))." }
        if ($line.StartsWith('@@SIM ')) { break }
    }
    $reply = $line.Substring(6) | ConvertFrom-Json
    if (-not $reply.ok) { throw "Simulator host: $($Command.op) failed: $($reply.error)" }
    $reply
}

function Stop-SimHost {
    param([Parameter(Mandatory)] $SimHost)
    try {
        $stats = Invoke-SimHost $SimHost @{ op = 'stats' }
        Invoke-SimHost $SimHost @{ op = 'quit' } | Out-Null
        if (-not $SimHost.Process.WaitForExit(10000)) { $SimHost.Process.Kill() }
        $stats
    } catch {
        if (-not $SimHost.Process.HasExited) { $SimHost.Process.Kill() }
        $null
    }
}

function New-BenchToken {
    <#
    .SYNOPSIS
        The real onboarding: New-AdeTokenRequest here, ABM "add MDM server" (and its devices) in the simulator host,
        New-AdeToken here against the simulator. Returns the token.
    #>
    param([Parameter(Mandatory)] $SimHost, [Parameter(Mandatory)] [string] $Name, [int] $Devices, [Parameter(Mandatory)] [string] $Folder, [string] $DeviceFamily)
    $pem = Join-Path $Folder "$Name.pem"
    $p7m = Join-Path $Folder "$Name.p7m"
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    $r = Invoke-SimHost $SimHost @{ op = 'server'; name = $Name; pem = $pem; p7m = $p7m; count = $Devices; family = $DeviceFamily }
    $token = New-AdeToken -Request $request -Path $p7m -AppleId 'bench@contoso.example' -Name $Name -ServiceUri $SimHost.Uri `
        -EnrollmentUrl 'https://mdm.contoso.example/enroll'
    [pscustomobject]@{ Token = $token; SimulatorAddSeconds = $r.addSeconds }
}

function New-ManyBenchTokens {
    <#
    .SYNOPSIS
        ManyTokens setup: -Count tokens of -DevicesEach devices each, fast enough for 2,000 tokens.
    .DESCRIPTION
        New-AdeTokenRequest makes an RSA-2048 key per request (about a second each on a slow machine: half an hour for
        2,000), so the requests are written here instead, as New-AdeTokenRequest writes them but all with ONE key made
        once: a self-signed certificate per request (its own subject, serial and thumbprint) over that key, the key
        sealed under the store key for each request (the engine's own SecretProtector, reached by reflection), the rows
        inserted in one transaction (SQLite or PostgreSQL: the same SQL). Then the simulator host adds one MDM server per request (its token file encrypted
        to that certificate) with its devices, in one command. Then every token is added with the real New-AdeToken
        (decrypts the file, checks it with the simulator's /session and /account, stores it). Returns the times of the
        three steps.
    #>
    param([Parameter(Mandatory)] $SimHost, [ValidateSet('SQLite', 'PostgreSQL')] [string] $Provider = 'SQLite', [Parameter(Mandatory)] [string] $Store,
        [int] $Count, [int] $DevicesEach, [Parameter(Mandatory)] [string] $Folder)
    $flags = [Reflection.BindingFlags]'Public,NonPublic,Instance,Static'
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $engineStore = Open-BenchEngineStore -Provider $Provider -Store $Store
    $secrets = $engineStore.GetType().GetProperty('Secrets', $flags).GetValue($engineStore)
    if (-not ('AdeBenchSealer' -as [type])) {
        # SecretProtector.Protect takes a ReadOnlySpan<byte>, which reflection from PowerShell cannot pass: a typed delegate can.
        Add-Type -TypeDefinition @'
using System;
using System.Reflection;
public static class AdeBenchSealer
{
    private delegate byte[] Protect(ReadOnlySpan<byte> plaintext, string purpose);

    public static Func<byte[], string, byte[]> For(object protector)
    {
        var method = protector.GetType().GetMethod("Protect", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        var protect = (Protect)Delegate.CreateDelegate(typeof(Protect), protector, method);
        return (plaintext, purpose) => protect(plaintext, purpose);
    }
}
'@
    }
    $seal = [AdeBenchSealer]::For($secrets)
    $rsa = [Security.Cryptography.RSA]::Create(2048)
    $pkcs8 = $rsa.ExportPkcs8PrivateKey()
    $now = [DateTimeOffset]::UtcNow
    $requests = [Collections.Generic.List[object]]::new()
    $c = if ($Provider -eq 'PostgreSQL') { (Get-BenchNpgsqlType 'Npgsql.NpgsqlConnection')::new($Store) }
    else { (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Store;Pooling=False") }
    try {
        $c.Open()
        $tx = $c.BeginTransaction()
        $cmd = $c.CreateCommand()
        $cmd.Transaction = $tx
        $cmd.CommandText = 'INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key) VALUES (@id, @t, @tp, @pem, @key)'
        foreach ($i in 1..$Count) {
            $id = [guid]::NewGuid()
            $cr = [Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=AdeEnrollment $($id.ToString('N'))", $rsa,
                [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.RSASignaturePadding]::Pkcs1)
            $cert = $cr.CreateSelfSigned($now.AddMinutes(-10), $now.AddDays(365))
            $pem = $cert.ExportCertificatePem() + "`n"
            $name = 'Bench {0:D4}' -f $i
            $pemPath = Join-Path $Folder "$name.pem"
            [IO.File]::WriteAllText($pemPath, $pem)
            $cmd.Parameters.Clear()
            [void]$cmd.Parameters.AddWithValue('id', $id.ToString())
            [void]$cmd.Parameters.AddWithValue('t', $now.AddMilliseconds($i).ToUnixTimeMilliseconds())
            [void]$cmd.Parameters.AddWithValue('tp', $cert.Thumbprint)
            [void]$cmd.Parameters.AddWithValue('pem', $pem)
            [void]$cmd.Parameters.AddWithValue('key', $seal.Invoke($pkcs8, "token_request:${id}:private_key"))
            [void]$cmd.ExecuteNonQuery()
            $cert.Dispose()
            $requests.Add([pscustomobject]@{ Id = $id; Name = $name; Pem = $pemPath; P7m = (Join-Path $Folder "$name.p7m") })
        }
        $tx.Commit()
    } finally {
        $c.Dispose()
        $rsa.Dispose()
    }
    $requestSeconds = $watch.Elapsed.TotalSeconds

    $watch.Restart()
    $r = Invoke-SimHost $SimHost @{ op = 'servers'; servers = @($requests | ForEach-Object { @{ name = $_.Name; pem = $_.Pem; p7m = $_.P7m } }); count = $DevicesEach }
    $simulatorSeconds = $watch.Elapsed.TotalSeconds

    $watch.Restart()
    foreach ($q in $requests) {
        New-AdeToken -Request $q.Id -Path $q.P7m -AppleId 'bench@contoso.example' -Name $q.Name -ServiceUri $SimHost.Uri | Out-Null
    }
    [pscustomobject]@{ RequestSeconds = $requestSeconds; SimulatorSeconds = $simulatorSeconds; SimulatorAddSeconds = $r.addSeconds; NewTokenSeconds = $watch.Elapsed.TotalSeconds }
}

function Measure-Step {
    <#
    .SYNOPSIS
        Runs a script block once; returns its wall time, the CPU time this process spent meanwhile (all threads), the
        JIT's share of it (time compiling and methods compiled, all threads: tiering's background recompiles too), the
        garbage collector's pause time, the script block's output and, with -SimulatorHost, the simulator's CPU time meanwhile.
    #>
    # Not -SimHost: the script block runs in a scope below this function's, where a parameter named $SimHost would hide
    # the scenario's own $simHost (variable names ignore case).
    param([Parameter(Mandatory)] [scriptblock] $Script, $SimulatorHost)
    # The simulator runs in a process of its own on the same cores: its CPU during the step is part of what the wall
    # time is made of (when both processes are busy, the machine's two cores are).
    $simulatorCpuBefore = if ($SimulatorHost) { (Invoke-SimHost $SimulatorHost @{ op = 'stats' }).cpuSeconds }
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $cpu = $process.TotalProcessorTime
    $jit = [Runtime.JitInfo]::GetCompilationTime($false); $jitMethods = [Runtime.JitInfo]::GetCompiledMethodCount($false)
    $gcPause = [GC]::GetTotalPauseDuration()
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $output = & $Script
    $watch.Stop()
    $process.Refresh()
    [pscustomobject]@{
        Seconds = $watch.Elapsed.TotalSeconds; CpuSeconds = ($process.TotalProcessorTime - $cpu).TotalSeconds; Output = $output
        JitSeconds = ([Runtime.JitInfo]::GetCompilationTime($false) - $jit).TotalSeconds; JitMethods = [Runtime.JitInfo]::GetCompiledMethodCount($false) - $jitMethods
        GcPauseSeconds = ([GC]::GetTotalPauseDuration() - $gcPause).TotalSeconds
        SimulatorCpuSeconds = if ($SimulatorHost) { (Invoke-SimHost $SimulatorHost @{ op = 'stats' }).cpuSeconds - $simulatorCpuBefore }
    }
}

function Clear-BenchGarbage {
    <#
    .SYNOPSIS
        A full, blocking garbage collection with the finalizers it finds run, before a timed step: what an untimed
        setup left behind is not charged to the step.
    #>
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
}

function Get-PeakMemory {
    # PeakWorkingSet64 is VmHWM on Linux; both are recorded where /proc exists.
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $hwm = $null
    if (Test-Path /proc/self/status) {
        $line = Select-String -Path /proc/self/status -Pattern '^VmHWM:\s+(\d+) kB' | Select-Object -First 1
        if ($line) { $hwm = [long]$line.Matches[0].Groups[1].Value * 1024 }
    }
    [pscustomobject]@{ PeakWorkingSetBytes = $process.PeakWorkingSet64; VmHwmBytes = $hwm }
}

function Invoke-StoreScalarList {
    # A read straight from the store (picking serials to look up), outside the cmdlets being measured. -Path is the
    # SQLite file, or with -Provider PostgreSQL the database's connection string.
    param([string] $Path, [string] $Sql, [ValidateSet('SQLite', 'PostgreSQL')] [string] $Provider = 'SQLite')
    $c = if ($Provider -eq 'PostgreSQL') { (Get-BenchNpgsqlType 'Npgsql.NpgsqlConnection')::new($Path) }
    else { (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Path;Mode=ReadOnly;Pooling=False") }
    try {
        $c.Open()
        $cmd = $c.CreateCommand()
        $cmd.CommandText = $Sql
        $r = $cmd.ExecuteReader()
        $list = [Collections.Generic.List[string]]::new()
        while ($r.Read()) { $list.Add($r.GetString(0)) }
        $r.Dispose()
        , $list.ToArray()
    } finally {
        $c.Dispose()
    }
}

# ---- PostgreSQL -----------------------------------------------------------------------------------------------------

# The passphrase of the bench's server stores (a server store protects its secrets by a passphrase only).
$script:BenchPassphrase = 'ade bench passphrase'

function Get-BenchNpgsqlType([string] $FullName) {
    # The module's own Npgsql, from its AssemblyLoadContext (loaded there on first use; the module ships it).
    [AdeEnrollment.Loader.LoadContext]::Current.LoadFromAssemblyName([Reflection.AssemblyName]::new('Npgsql')).GetType($FullName, $true)
}

function Invoke-BenchPostgres {
    # One SQL statement on the server outside any store (creating and dropping the bench's databases); returns the scalar.
    param([Parameter(Mandatory)] [string] $ConnectionString, [Parameter(Mandatory)] [string] $Sql)
    $c = (Get-BenchNpgsqlType 'Npgsql.NpgsqlConnection')::new($ConnectionString)
    try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
}

function Get-BenchPostgresConnectionString {
    # The server's connection string with another database (and optionally a schema as search path), pooling off.
    param([Parameter(Mandatory)] [string] $ConnectionString, [string] $Database, [string] $SearchPath)
    $b = (Get-BenchNpgsqlType 'Npgsql.NpgsqlConnectionStringBuilder')::new($ConnectionString)
    if ($Database) { $b.Database = $Database }
    if ($SearchPath) { $b.SearchPath = $SearchPath }
    $b.ConnectionString
}

function Connect-BenchStore {
    <#
    .SYNOPSIS
        Connect-AdeStore to the scenario's store: a SQLite file (removed first with -Fresh) or a PostgreSQL database
        (fresh from bench/Invoke-Benchmark.ps1; its connection string carries the password, the passphrase is the bench's).
    #>
    param([Parameter(Mandatory)] [string] $Provider, [Parameter(Mandatory)] [string] $Store, [switch] $Fresh)
    if ($Provider -eq 'PostgreSQL') {
        Connect-AdeStore -ConnectionString $Store -Key (ConvertTo-SecureString $script:BenchPassphrase -AsPlainText -Force) | Out-Null
        return
    }
    if ($Fresh -and (Test-Path $Store)) { Remove-Item -Force $Store, "$Store.key", "$Store-wal", "$Store-shm" -ErrorAction SilentlyContinue }
    Connect-AdeStore -Path $Store | Out-Null
}

function Open-BenchEngineStore {
    # The engine's AdeStore over the scenario's store, for the steps that reach the engine by reflection.
    param([Parameter(Mandatory)] [string] $Provider, [Parameter(Mandatory)] [string] $Store)
    $adeStore = Get-AdeModuleType AdeEnrollment.Engine.Storage.AdeStore
    if ($Provider -eq 'PostgreSQL') {
        $info = (Get-AdeModuleType AdeEnrollment.Engine.Storage.Postgres.PostgresConnectionInfo)::Parse($Store, $null, $null)
        return $adeStore::Open($info, [Text.Encoding]::UTF8.GetBytes($script:BenchPassphrase))
    }
    $adeStore::Open($Store, $null)
}

function Test-StoreNotSupported {
    # True when a failure is the catalogued StoreNotSupported (a part of the store the provider does not have yet),
    # from a cmdlet (its error ID) or from the engine reached by reflection (the AdeException inside).
    param([Parameter(Mandatory)] [Management.Automation.ErrorRecord] $ErrorRecord)
    if ($ErrorRecord.FullyQualifiedErrorId -like 'StoreNotSupported,*' -or $ErrorRecord.FullyQualifiedErrorId -eq 'StoreNotSupported') { return $true }
    for ($e = $ErrorRecord.Exception; $e; $e = $e.InnerException) {
        if ($e.GetType().FullName -eq 'AdeEnrollment.Engine.Errors.AdeException' -and $e.ErrorId -eq 'StoreNotSupported') { return $true }
        if ($e -is [Management.Automation.IContainsErrorRecord] -and $e.ErrorRecord -and $e.ErrorRecord -ne $ErrorRecord -and
            $e.ErrorRecord.FullyQualifiedErrorId -like 'StoreNotSupported,*') { return $true }
    }
    $false
}

function Get-AdeModuleType([string] $FullName) {
    # The module's assemblies live in its own AssemblyLoadContext, which PowerShell's [type] literals do not search.
    foreach ($assembly in [AdeEnrollment.Loader.LoadContext]::Current.Assemblies) {
        $type = $assembly.GetType($FullName)
        if ($type) { return $type }
    }
    throw "Type $FullName is not loaded in the AdeEnrollment load context."
}
