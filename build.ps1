#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks AdeEnrollment.
.DESCRIPTION
    Tasks:
      Build  publishes the importable modules to out/AdeEnrollment and out/AdeEnrollment.Simulator
             (manifest stamped from Directory.Build.props, dlls, native SQLite for every supported RID, formats, help).
      Test   Build, then xunit, then Pester in a fresh pwsh against the built module. Ends with one line
             "Tests: N passed, M failed"; the exit code is non-zero on any failure.
      Demo   Build, then runs demo/Demo.ps1 in a fresh pwsh against a throw-away store.
      Bench  Build, then runs the benchmark harness (bench/Invoke-Benchmark.ps1).
      Fuzz   builds and runs only the xunit fuzz classes (names containing "Fuzz") with many cases:
             $env:ADE_FUZZ_CASES, else 100,000 (the normal Test run uses each class's small default).
      Package  Build, then publishes both modules with Publish-PSResource as nupkgs into out/packages.
      Clean  removes out/ and every bin/ and obj/.
    -NoHelp (development only) skips compiling help, which otherwise fails the build for a cmdlet without a page.
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean', 'Fuzz')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Runs only the Pester files whose name matches (Test task).
    [string] $PesterFilter = '*',

    # Runs only the Pester tests whose full name matches, e.g. '*batch*' (Test task).
    [string] $PesterName = '',

    # Development only: skip compiling help from docs/ (a cmdlet without a page otherwise fails the build).
    [switch] $NoHelp
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'AdeEnrollment'
$simOut = Join-Path $out 'AdeEnrollment.Simulator'
# The native SQLite builds shipped in the module (docs/architecture.md, "Native SQLite inside the context"): missing one fails the build.
$nativeRids = 'linux-x64', 'linux-arm64', 'linux-musl-x64', 'linux-musl-arm64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-arm64'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-Version {
    ([xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
}

function Invoke-ChildPwsh {
    # A fresh pwsh for every run against the built module: binary modules cannot be unloaded.
    param([string] $Script, [hashtable] $Environment = @{})
    # Under `dotnet pwsh` the process is dotnet itself: start pwsh.dll through the same dotnet host.
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $saved = @{}
    foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
    try {
        & dotnet $pwshDll -NoProfile -NonInteractive -File $Script | Out-Host
        return $LASTEXITCODE
    } finally {
        foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    }
}

function Invoke-Build {
    $version = Get-Version
    Write-Host "Building AdeEnrollment $version ($Configuration)" -ForegroundColor Cyan
    if (Test-Path $moduleOut) { Remove-Item -Recurse -Force $moduleOut }
    if (Test-Path $simOut) { Remove-Item -Recurse -Force $simOut }
    $publish = Join-Path $out 'publish'
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/AdeEnrollment/AdeEnrollment.csproj'), '-c', $Configuration, '-o', (Join-Path $publish 'AdeEnrollment'), '--nologo', '-v', 'q')

    # Module folder (docs/architecture.md, "Dependency isolation"): manifest, psm1, formats, help and the loader at the
    # root; the cmdlets, the engine and every dependency under bin/ (natives under bin/runtimes/<rid>/native), loaded
    # by the loader into the module's own AssemblyLoadContext.
    $bin = Join-Path $moduleOut 'bin'
    New-Item -ItemType Directory -Force $bin | Out-Null
    Get-ChildItem (Join-Path $publish 'AdeEnrollment') -File | Where-Object Extension -in '.dll', '.ps1xml', '.psm1' | ForEach-Object {
        $destination = if ($_.Extension -eq '.dll' -and $_.Name -ne 'AdeEnrollment.Loader.dll') { $bin } else { $moduleOut }
        Copy-Item $_.FullName -Destination $destination
    }
    foreach ($rid in $nativeRids) {
        $source = Join-Path $publish "AdeEnrollment/runtimes/$rid/native"
        if (-not (Test-Path $source)) { throw "Native SQLite for $rid is missing from the publish output ($source)." }
        $target = Join-Path $bin "runtimes/$rid/native"
        New-Item -ItemType Directory -Force $target | Out-Null
        Copy-Item (Join-Path $source '*') $target
    }
    $manifest = Get-Content -Raw (Join-Path $root 'src/AdeEnrollment/AdeEnrollment.psd1')
    Set-Content -Path (Join-Path $moduleOut 'AdeEnrollment.psd1') -Value ($manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'") -NoNewline

    $simProject = Join-Path $root 'src/AdeEnrollment.Simulator/AdeEnrollment.Simulator.csproj'
    $simManifest = Join-Path $root 'src/AdeEnrollment.Simulator/AdeEnrollment.Simulator.psd1'
    if (Test-Path $simManifest) {
        Invoke-Native dotnet @('publish', $simProject, '-c', $Configuration, '-o', (Join-Path $publish 'AdeEnrollment.Simulator'), '--nologo', '-v', 'q')
        New-Item -ItemType Directory -Force $simOut | Out-Null
        # The engine and BouncyCastle come from the AdeEnrollment module (RequiredModules), never a second copy: the
        # simulator loads into the same AssemblyLoadContext, so both modules share one engine and one clock.
        $shared = Get-ChildItem $moduleOut -Filter *.dll -Recurse | ForEach-Object Name
        Get-ChildItem (Join-Path $publish 'AdeEnrollment.Simulator') -File |
            Where-Object { $_.Extension -in '.dll', '.ps1xml', '.psm1' -and $_.Name -notin $shared } |
            Copy-Item -Destination $simOut
        $m = Get-Content -Raw $simManifest
        Set-Content -Path (Join-Path $simOut 'AdeEnrollment.Simulator.psd1') -Value ($m -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion     = '$version'") -NoNewline
    }

    # Help: MAML compiled from docs/*.md (one page per cmdlet) in a fresh pwsh that imports the built module.
    $helpScript = Join-Path $root 'tools/Build-Help.ps1'
    if ((Test-Path $helpScript) -and -not $NoHelp) {
        $code = Invoke-ChildPwsh -Script $helpScript -Environment @{ ADE_BUILD_OUT = $out; ADE_BUILD_DOCS = (Join-Path $root 'docs') }
        if ($code -ne 0) { throw "Help generation failed (exit code $code)." }
    }
    Write-Host "Module ready: $moduleOut" -ForegroundColor Green
}

function Start-TestPostgres {
    # The shared-store tests need a PostgreSQL server (README, "The PostgreSQL leg"): $env:ADE_TEST_POSTGRES when the
    # caller has one (CI starts it in .ci/run), else a private throw-away one from tests/postgres/test-postgres.sh.
    if ($env:ADE_TEST_POSTGRES) { return $null }
    if ($IsWindows) {
        Write-Warning 'No PostgreSQL test server: set $env:ADE_TEST_POSTGRES to a connection string (README, "The PostgreSQL leg"); the PostgreSQL tests fail without one.'
        return $null
    }
    $lines = & bash (Join-Path $root 'tests/postgres/test-postgres.sh') start
    if ($LASTEXITCODE -ne 0) {
        Write-Warning 'Could not start a PostgreSQL test server (is PostgreSQL installed?); the PostgreSQL tests will fail.'
        return $null
    }
    $values = @{}
    foreach ($line in $lines) { if ($line -match "^(\w+)='(.*)'$") { $values[$Matches[1]] = $Matches[2] } }
    $env:ADE_TEST_POSTGRES = $values.ADE_TEST_POSTGRES
    return $values.ADE_TEST_POSTGRES_DIR
}

function Stop-TestPostgres([string] $Folder) {
    if (-not $Folder) { return }
    & bash (Join-Path $root 'tests/postgres/test-postgres.sh') stop $Folder
    $env:ADE_TEST_POSTGRES = $null
}

function Invoke-Test {
    Invoke-Build
    $postgresFolder = Start-TestPostgres
    try { Invoke-TestRuns } finally { Stop-TestPostgres $postgresFolder }
}

function Invoke-TestRuns {
    $results = Join-Path $out 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Force $results | Out-Null

    Write-Host 'xunit: engine, crypto, protocol, store, simulator' -ForegroundColor Cyan
    & dotnet test (Join-Path $root 'tests/AdeEnrollment.Engine.Tests/AdeEnrollment.Engine.Tests.csproj') -c $Configuration --nologo `
        --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=minimal' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xPassed = 0; $xFailed = 0
    $trx = Join-Path $results 'engine.trx'
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
        $xPassed = [int]$counters.passed
        $xFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    }
    if ($xunitExit -ne 0 -and $xFailed -eq 0) { $xFailed = 1 } # the run itself failed (build error, crash)

    Write-Host 'Pester: every cmdlet through the built module, in a fresh pwsh' -ForegroundColor Cyan
    $pesterJson = Join-Path $results 'pester.json'
    $code = Invoke-ChildPwsh -Script (Join-Path $root 'tests/Invoke-Pester.ps1') -Environment @{
        ADE_TEST_OUT = $out; ADE_TEST_RESULT = $pesterJson; ADE_TEST_FILTER = $PesterFilter; ADE_TEST_NAME = $PesterName
        ADE_TEST_PESTER = (Get-PesterPath)
    }
    $pPassed = 0; $pFailed = 0
    if (Test-Path $pesterJson) {
        $p = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $pPassed = [int]$p.Passed; $pFailed = [int]$p.Failed
    }
    if ($code -ne 0 -and $pFailed -eq 0) { $pFailed = 1 }

    Write-Host "xunit: $xPassed passed, $xFailed failed; Pester: $pPassed passed, $pFailed failed"
    $passed = $xPassed + $pPassed; $failed = $xFailed + $pFailed
    Write-Host "Tests: $passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Get-PesterPath {
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $line = & dotnet nuget locals global-packages --list
        $packages = ($line -replace '^global-packages:\s*', '').Trim()
    }
    $path = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $path)) { throw "Pester 5.7.1 was not restored ($path). Run 'dotnet restore' first." }
    return $path
}

function Invoke-Demo {
    Invoke-Build
    $code = Invoke-ChildPwsh -Script (Join-Path $root 'demo/Demo.ps1') -Environment @{ ADE_DEMO_OUT = $out }
    if ($code -ne 0) { throw "The demo failed (exit code $code)." }
}

function Invoke-Bench {
    Invoke-Build
    $code = Invoke-ChildPwsh -Script (Join-Path $root 'bench/Invoke-Benchmark.ps1') -Environment @{ ADE_BENCH_OUT = $out }
    if ($code -ne 0) { throw "The benchmark failed (exit code $code)." }
}

function Invoke-Fuzz {
    # Deterministic mutation fuzzing (tests/AdeEnrollment.Engine.Tests/Fuzz): many more cases than the Test run.
    $cases = if ($env:ADE_FUZZ_CASES) { $env:ADE_FUZZ_CASES } else { '100000' }
    $saved = $env:ADE_FUZZ_CASES
    $env:ADE_FUZZ_CASES = $cases
    try {
        Write-Host "Fuzz: $cases cases per fuzz budget" -ForegroundColor Cyan
        & dotnet test (Join-Path $root 'tests/AdeEnrollment.Engine.Tests/AdeEnrollment.Engine.Tests.csproj') -c $Configuration --nologo `
            --filter 'FullyQualifiedName~Fuzz' --logger 'console;verbosity=normal'
        if ($LASTEXITCODE -ne 0) { throw "Fuzzing found a failure (exit code $LASTEXITCODE); the message names the seed and case." }
    } finally {
        $env:ADE_FUZZ_CASES = $saved
    }
}

function Invoke-Package {
    # What Publish-PSResource publishes (nupkgs in out/packages), through a temporary local repository that is
    # unregistered afterwards. tests/pester/Package.Tests.ps1 installs such packages and uses them.
    Invoke-Build
    $packages = Join-Path $out 'packages'
    if (Test-Path $packages) { Remove-Item -Recurse -Force $packages }
    New-Item -ItemType Directory -Force $packages | Out-Null
    $repository = 'AdeEnrollmentBuild' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    Register-PSResourceRepository -Name $repository -Uri $packages -Trusted
    # Publishing the simulator checks that the module it requires (AdeEnrollment) can be found: the build output is put
    # on PSModulePath for the publish only.
    $modulePath = $env:PSModulePath
    try {
        $env:PSModulePath = $out + [IO.Path]::PathSeparator + $modulePath
        Publish-PSResource -Path $moduleOut -Repository $repository
        if (Test-Path $simOut) { Publish-PSResource -Path $simOut -Repository $repository }
    } finally {
        $env:PSModulePath = $modulePath
        Unregister-PSResourceRepository -Name $repository
    }
    Get-ChildItem $packages
}

function Invoke-Clean {
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    Get-ChildItem $root -Recurse -Directory -Include bin, obj | Where-Object FullName -NotMatch '[\\/]\.git[\\/]' | Remove-Item -Recurse -Force
}

Push-Location $root
try {
    foreach ($t in $Task) { & "Invoke-$t" }
} finally {
    Pop-Location
}
