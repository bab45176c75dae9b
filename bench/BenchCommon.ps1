# Helpers for one benchmark scenario process (bench/Invoke-Scenario.ps1). Dot-source.
Set-StrictMode -Version Latest

function Start-SimHost {
    <#
    .SYNOPSIS
        Starts bench/SimHost.ps1 in a pwsh process of its own and a simulator in it; returns the host handle.
    #>
    param([int] $Seed = 4242)
    $psi = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    # Under `dotnet pwsh` the process is dotnet itself: start pwsh.dll through the same host; else pwsh directly.
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'SimHost.ps1')) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    # When this scenario runs under dotnet-trace, the simulator host must not wait for the tracer too.
    [void]$psi.Environment.Remove('DOTNET_DiagnosticPorts')
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($psi)
    $simHost = [pscustomobject]@{ Process = $process; Uri = $null }
    $simHost.Uri = [uri](Invoke-SimHost $simHost @{ op = 'start'; seed = $Seed }).uri
    $simHost
}

function Invoke-SimHost {
    param([Parameter(Mandatory)] $SimHost, [Parameter(Mandatory)] [hashtable] $Command)
    $SimHost.Process.StandardInput.WriteLine(($Command | ConvertTo-Json -Compress))
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

function Measure-Step {
    <#
    .SYNOPSIS
        Runs a script block once; returns its wall time, the CPU time this process spent meanwhile (all threads), and
        the script block's output.
    #>
    param([Parameter(Mandatory)] [scriptblock] $Script)
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $cpu = $process.TotalProcessorTime
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $output = & $Script
    $watch.Stop()
    $process.Refresh()
    [pscustomobject]@{ Seconds = $watch.Elapsed.TotalSeconds; CpuSeconds = ($process.TotalProcessorTime - $cpu).TotalSeconds; Output = $output }
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
    # A read straight from the store file (picking serials to look up), outside the cmdlets being measured.
    param([string] $Path, [string] $Sql)
    $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Path;Mode=ReadOnly;Pooling=False")
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

function Get-AdeModuleType([string] $FullName) {
    # The module's assemblies live in its own AssemblyLoadContext, which PowerShell's [type] literals do not search.
    foreach ($assembly in [AdeEnrollment.Loader.LoadContext]::Current.Assemblies) {
        $type = $assembly.GetType($FullName)
        if ($type) { return $type }
    }
    throw "Type $FullName is not loaded in the AdeEnrollment load context."
}
