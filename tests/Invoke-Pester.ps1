# Runs the Pester suite against the built module. Started by build.ps1 in a fresh pwsh; writes the counts as JSON.
$ErrorActionPreference = 'Stop'
$out = $env:ADE_TEST_OUT
Import-Module $env:ADE_TEST_PESTER -Force
# The suite never touches the user's real store: everything lives under a throw-away folder.
$scratch = Join-Path ([IO.Path]::GetTempPath()) ("ade-pester-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory $scratch | Out-Null
$env:XDG_DATA_HOME = $scratch
$env:ADE_ENROLLMENT_STORE = Join-Path $scratch 'default.db'
$env:ADE_ENROLLMENT_STORE_KEY = $null
$env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath

$config = New-PesterConfiguration
# The module's own suite, plus the administrators' example suite in examples/ (so the examples cannot rot).
$config.Run.Path = @((Join-Path $PSScriptRoot 'pester'), (Join-Path $PSScriptRoot '../examples'))
$config.Run.PassThru = $true
$config.Filter.FullName = @()
# For a developer's run: only the tests whose full name matches (wildcards), e.g. '*batch*'.
if ($env:ADE_TEST_NAME) { $config.Filter.FullName = @($env:ADE_TEST_NAME) }
$config.Output.Verbosity = 'Normal'
if ($env:ADE_TEST_FILTER -and $env:ADE_TEST_FILTER -ne '*') {
    $config.Run.Path = @(Get-ChildItem (Join-Path $PSScriptRoot 'pester'), (Join-Path $PSScriptRoot '../examples') -Filter *.Tests.ps1 |
        Where-Object { $_.Name -like "$($env:ADE_TEST_FILTER).Tests.ps1" } | ForEach-Object FullName)
}
$result = Invoke-Pester -Configuration $config
# A run that found no tests, or that Pester itself could not start, is a failure, never a silent pass.
$failed = if ($null -eq $result -or $result.TotalCount -eq 0) { 1 } else { $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount }
@{ Passed = [int]$result.PassedCount; Failed = $failed } | ConvertTo-Json | Set-Content $env:ADE_TEST_RESULT
Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
exit ([int]($failed -gt 0))
