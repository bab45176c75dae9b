# Loads the module's code into its own AssemblyLoadContext, so that other versions of its dependencies in this
# session (SQLite, BouncyCastle, Polly, ...) never meet this module's (docs/architecture.md, "Dependency isolation").
# Only AdeEnrollment.Loader.dll lives in PowerShell's default context; everything else is under bin/.
$loaderPath = [IO.Path]::Combine($PSScriptRoot, 'AdeEnrollment.Loader.dll')
if (-not ('AdeEnrollment.Loader.LoadContext' -as [type])) {
    Add-Type -Path $loaderPath
}
$main = [AdeEnrollment.Loader.LoadContext]::Initialize([IO.Path]::Combine($PSScriptRoot, 'bin', 'AdeEnrollment.dll'))

# Import-Module -Assembly returns the cached binary module on a re-import (Import-Module -Force) without exporting its
# cmdlets into this module again, so the cmdlets are added to this module explicitly.
$inner = Import-Module -Assembly $main -PassThru -DisableNameChecking
$addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod('AddExportedCmdlet', [Reflection.BindingFlags]'Instance, NonPublic')
foreach ($cmdlet in $inner.ExportedCmdlets.Values) {
    $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
}
